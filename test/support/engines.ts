import Docker from 'dockerode';
import { BASE_IMAGE } from './git-repo';

/** The two independent engines that scripts/services.sh up starts (or finds) for tests that build on both. */
export const ENGINES = {
  primary: process.env.DOCKER_HOST ?? 'unix:///var/run/docker.sock',
  secondary: process.env.DOCKER_HOST_2 ?? 'unix:///var/run/bo-engine2.sock',
};

/** dockerode for a DOCKER_HOST-style address: unix:///path/to.sock or tcp://host:port (plain HTTP). */
export const dockerFor = (host: string): Docker => {
  if (host.startsWith('unix://')) return new Docker({ socketPath: host.slice('unix://'.length) });
  const url = new URL(host);
  if (url.protocol !== 'tcp:' && url.protocol !== 'http:') throw new Error(`unsupported Docker host ${host}: use unix:///path or tcp://host:port`);
  return new Docker({ host: url.hostname, port: Number(url.port || 2375), protocol: 'http' });
};

/** Why the engine at `host` cannot run the tests, or undefined if it can. */
const engineProblem = async (host: string): Promise<string | undefined> => {
  const docker = dockerFor(host);
  try {
    await docker.ping();
  } catch (error) {
    return `no engine answers at ${host} (${(error as Error).message})`;
  }
  try {
    await docker.getImage(BASE_IMAGE).inspect();
  } catch (error) {
    return `the engine at ${host} has no ${BASE_IMAGE} (${(error as Error).message})`;
  }
  return undefined;
};

/** Fails, saying how to start them, unless every engine answers and has the base image. */
export const requireEngines = async (hosts: string[]): Promise<void> => {
  const problems = (await Promise.all(hosts.map(engineProblem))).filter((problem): problem is string => problem !== undefined);
  if (problems.length > 0) throw new Error(`These tests need ${hosts.length} Docker engine(s) with ${BASE_IMAGE}: ${problems.join('; ')}. Run scripts/services.sh up`);
};
