import { Injectable, Logger, OnApplicationShutdown, Provider, Type } from '@nestjs/common';
import { AppConfig, Clock, Topology } from '@lib/shared';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { BuildLogStore } from '../logs/build-log.store';
import { AccessKeys } from '../registry-auth/access-keys';
import { RegistryTokenController } from '../registry-auth/registry-token.controller';
import { RegistryTokenSigner } from '../registry-auth/registry-token.signer';
import { AttemptTools } from './build-attempt';
import { dockerClient } from './docker-engine';
import { BACKENDS, EXECUTOR_TOOLS, ExecutorService } from './executor.service';
import { TOPOLOGY } from '../scheduling/cluster-view.service';
import { Backend } from './routes';
import { ImageBuilder } from './image-builder';
import { EngineMutex } from './engine-mutex';
import { ImagePusher } from './image-pusher';
import { SourceFetcher } from './source-fetcher';
import { OrchestratorMetrics } from '../operations/orchestrator-metrics';

@Injectable()
export class AccessKeysLifecycle implements OnApplicationShutdown {
  constructor(private readonly keys: AccessKeys) {}
  onApplicationShutdown(): void {
    this.keys.close();
  }
}

/** Fails the start with a message naming the variable when the token signing files are missing. */
const signerFrom = (config: AppConfig): RegistryTokenSigner => {
  for (const [variable, path] of [['REGISTRY_TOKEN_KEY', config.REGISTRY_TOKEN_KEY], ['REGISTRY_TOKEN_CERT', config.REGISTRY_TOKEN_CERT]]) {
    if (!existsSync(path)) throw new Error(`${variable}: ${path} does not exist (run scripts/services.sh up, or point ${variable} at the registry's token signing files)`);
  }
  return RegistryTokenSigner.fromFiles(
    { key: config.REGISTRY_TOKEN_KEY, cert: config.REGISTRY_TOKEN_CERT },
    { issuer: config.REGISTRY_TOKEN_ISSUER, audience: config.REGISTRY_SERVICE },
  );
};

export const logProviders = (config: AppConfig): Provider[] => [
  { provide: BuildLogStore, useFactory: () => new BuildLogStore(join(config.DATA_DIR, 'logs'), config.BUILD_LOG_MAX_BYTES) },
];

/** What the executor adds when EXECUTOR_ENABLED=true: the build runner and the registry's token endpoint. */
export const executorProviders = (config: AppConfig): Provider[] => [
  { provide: AccessKeys, useFactory: () => new AccessKeys(join(config.DATA_DIR, 'credentials.sqlite')) },
  AccessKeysLifecycle,
  { provide: RegistryTokenSigner, useFactory: () => signerFrom(config) },
  {
    provide: BACKENDS,
    useFactory: (signer: RegistryTokenSigner, clock: Clock, topology: Topology): ReadonlyMap<string, Backend> => {
      const logger = new Logger('executor');
      const pullToken = (repository: string) => signer.sign('build-orchestrator', [{ type: 'repository', name: repository, actions: ['pull'] }], clock.now(), 60).token;
      const limits = { memoryBytes: config.BUILD_MEMORY_BYTES, milliCpus: config.BUILD_MILLICPUS, pidsLimit: config.BUILD_PIDS_LIMIT, cgroupRoot: config.BUILD_CGROUP_ROOT };
      return new Map(
        topology.backends.map((backend) => {
          const docker = dockerClient(backend.dockerHost);
          const builder = new ImageBuilder(docker, limits, (message) => logger.warn(`${backend.name}: ${message}`));
          // A push lock outlives a push's deadline, so that a holder that died is the only way to lose one.
          const engineLock = new EngineMutex(docker, (config.PUSH_TIMEOUT_SECONDS + 60) * 1000);
          return [backend.name, { config: backend, docker, builder, pusher: new ImagePusher(docker, engineLock, pullToken) }];
        }),
      );
    },
    inject: [RegistryTokenSigner, Clock, TOPOLOGY],
  },
  {
    provide: EXECUTOR_TOOLS,
    useFactory: (keys: AccessKeys, logs: BuildLogStore, clock: Clock, metrics: OrchestratorMetrics): AttemptTools => ({
      fetcher: new SourceFetcher(config.GIT_TIMEOUT_SECONDS * 1000),
      keys,
      logs,
      now: () => clock.now(),
      metrics,
    }),
    inject: [AccessKeys, BuildLogStore, Clock, OrchestratorMetrics],
  },
  ExecutorService,
];

export const executorControllers: Type[] = [RegistryTokenController];
