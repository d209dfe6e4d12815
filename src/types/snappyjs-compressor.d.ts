// snappyjs's compressor module (CommonJS, no types of its own): `compress` of its index allocates and
// zero-fills a new output buffer per call; the compressor writes into a buffer it is given.
declare module 'snappyjs/snappy_compressor.js' {
  export class SnappyCompressor {
    constructor(uncompressed: Uint8Array);
    /** Bytes the output buffer needs at most. */
    maxCompressedLength(): number;
    /** Compresses into `out` (snappy block format); returns the bytes written. */
    compressToBuffer(out: Uint8Array): number;
  }
}
