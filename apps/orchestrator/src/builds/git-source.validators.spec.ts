import { gitRefProblem, gitSourceUrlProblem } from './git-source.validators';

describe('git source validation', () => {
  it.each(['/srv/git/hello', 'file:///srv/git/hello', 'https://git.example.com/acme/hello.git', 'ssh://git@git.example.com/acme/hello.git'])(
    'accepts %s',
    (url) => expect(gitSourceUrlProblem(url)).toBeNull(),
  );

  it.each([
    ['relative/path', /absolute local path/],
    ['http://git.example.com/x.git', /scheme http/],
    ['git://git.example.com/x.git', /scheme git/],
    ['https://bob:hunter2@git.example.com/x.git', /password/],
    ['ssh:///srv/x.git', /host/],
    ['/srv/git/x\nrm', /control/],
  ])('refuses %s', (url, problem) => expect(gitSourceUrlProblem(url)).toMatch(problem));

  it.each(['main', 'release/1.2', 'v1.2.3', 'HEAD', '0123456789abcdef0123456789abcdef01234567'])('accepts the ref %s', (ref) =>
    expect(gitRefProblem(ref)).toBeNull(),
  );

  it.each(['-x', '--upload-pack=x', 'a b', 'a..b', 'a~1', 'a^', 'x:y', 'x.lock', 'x/', '/x', 'a@{1}', 'a//b', '', 'x'.repeat(256)])(
    'refuses the ref %j',
    (ref) => expect(gitRefProblem(ref)).not.toBeNull(),
  );
});
