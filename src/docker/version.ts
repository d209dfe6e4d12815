//! Which Engine API version to speak: the newest one this client knows (CLIENT_API_VERSION), capped by
//! the engine's newest and raised to the engine's oldest. DockerClient.negotiate (client.ts) asks the
//! engine (`GET /version`) and applies this.

/** The newest Engine API version whose answers this client has been checked against. */
export const CLIENT_API_VERSION = '1.47';

/** An API version as [major, minor]. */
export function parseVersion(v: string): [number, number] | null {
  const m = /^(\d+)\.(\d+)$/.exec(v.trim());
  return m ? [Number(m[1]), Number(m[2])] : null;
}

function compareVersions(a: string, b: string): number {
  const pa = parseVersion(a) ?? [0, 0];
  const pb = parseVersion(b) ?? [0, 0];
  return pa[0] !== pb[0] ? pa[0] - pb[0] : pa[1] - pb[1];
}

/**
 * The version to speak: the engine's newest or ours, whichever is older, but never below the engine's
 * minimum (an engine that dropped our version still answers in a version it supports).
 */
export function chooseApiVersion(engineMax: string, engineMin: string | undefined): string {
  let v = compareVersions(engineMax, CLIENT_API_VERSION) < 0 ? engineMax : CLIENT_API_VERSION;
  if (engineMin !== undefined && parseVersion(engineMin) && compareVersions(v, engineMin) < 0) v = engineMin;
  return v;
}
