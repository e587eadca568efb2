/** The only place that knows how a build's stream is named. */
export const BUILD_STREAM_PREFIX = 'build-';

export const buildStream = (buildId: string): string => `${BUILD_STREAM_PREFIX}${buildId}`;
