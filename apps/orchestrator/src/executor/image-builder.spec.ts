import { buildFailure, EngineFaultError, ImageBuildError } from './image-builder';

describe('failures reported while building: the build\'s own, or the engine\'s', () => {
  it.each([
    "The command '/bin/sh -c exit 3' returned a non-zero code: 3",
    'dockerfile parse error line 2: unknown instruction: RUNN',
    'COPY failed: file not found in build context or excluded by .dockerignore: stat missing.txt: file does not exist',
    'pull access denied for nothing/here, repository does not exist or may require \'docker login\'',
    // A RUN step in an image without a shell is the Dockerfile's fault, though the runtime reports it.
    'OCI runtime create failed: container_linux.go:380: starting container process caused: exec: "/bin/sh": stat /bin/sh: no such file or directory: unknown',
  ])('given %j, then it is a build error (not retried)', (message) => {
    expect(buildFailure(message)).toBeInstanceOf(ImageBuildError);
  });

  it.each([
    'unable to find image "sha256:4e07408562bedb8b60ce05c1decfe3ad16b72230967de01f640b7e4729b49fce"',
    'failed to register layer: write /usr/lib/x: no space left on device',
    'error creating overlay mount to /var/lib/docker/overlay2/abc/merged: no such file or directory',
  ])('given the engine\'s own %j, then it is an engine fault (infrastructure, retried)', (message) => {
    const failure = buildFailure(message);
    expect(failure).toBeInstanceOf(EngineFaultError);
    expect(failure.message).toBe(`the engine failed: ${message}`);
  });
});
