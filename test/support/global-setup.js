// Integration and end-to-end tests run the compiled apps as real processes: compile once per jest run.
const { execFileSync } = require('node:child_process');

module.exports = async () => {
  execFileSync('npm', ['run', '--silent', 'build'], { cwd: `${__dirname}/../..`, stdio: 'inherit' });
};
