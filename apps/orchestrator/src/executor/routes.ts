import type Docker from 'dockerode';
import { BackendConfig, RegistryEndpointConfig } from '@lib/shared';
import { ImageBuilder } from './image-builder';
import { ImagePusher } from './image-pusher';

export type ProbeResult = Readonly<{ ok: boolean; latencyMs: number; detail: string }>;

/** One build backend: its engine, and the builder and pusher that drive it. */
export type Backend = Readonly<{ config: BackendConfig; docker: Docker; builder: ImageBuilder; pusher: ImagePusher }>;

const timed = async (work: () => Promise<string>): Promise<ProbeResult> => {
  const started = performance.now();
  try {
    const detail = await work();
    return { ok: true, latencyMs: Math.round(performance.now() - started), detail };
  } catch (error) {
    return { ok: false, latencyMs: Math.round(performance.now() - started), detail: (error as Error).message };
  }
};

/** A backend is healthy when its engine answers a ping within the probe timeout. */
export const probeBackend = (backend: Backend, timeoutMs: number): Promise<ProbeResult> =>
  timed(async () => {
    const signal = AbortSignal.timeout(timeoutMs);
    const answer = await Promise.race([
      backend.docker.ping(),
      new Promise<never>((_, reject) => signal.addEventListener('abort', () => reject(new Error(`no answer within ${timeoutMs} ms`)), { once: true })),
    ]);
    return `engine answered ${String(answer)}`;
  });

/** A registry endpoint is healthy when GET /v2/ answers 200 or 401 (its token challenge) within the probe timeout. */
export const probeRegistryEndpoint = (endpoint: RegistryEndpointConfig, timeoutMs: number): Promise<ProbeResult> =>
  timed(async () => {
    const response = await fetch(`${endpoint.url}/v2/`, { signal: AbortSignal.timeout(timeoutMs) });
    await response.body?.cancel();
    if (response.status !== 200 && response.status !== 401) throw new Error(`GET /v2/ answered ${response.status}`);
    return `GET /v2/ answered ${response.status}`;
  });
