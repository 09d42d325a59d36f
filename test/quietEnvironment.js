// jest's node environment, with the console of a test file held back: what
// the file's hooks and tests print (Backstage's "Loading config from ..." and
// logger lines from the real backends) is shown only when a test or a hook of
// that file fails, before jest's report of the failure. A passing file prints
// nothing but its PASS line.
const { TestEnvironment } = require('jest-environment-node');

const METHODS = ['log', 'info', 'warn', 'error', 'debug', 'trace', 'dir'];

class QuietEnvironment extends TestEnvironment {
  held = [];
  originals = {};

  async handleTestEvent(event) {
    // jest has given the file its console by the time the tests are set up.
    if (event.name === 'setup') {
      const console = this.global.console;
      for (const method of METHODS) {
        this.originals[method] = console[method].bind(console);
        console[method] = (...args) => {
          this.held.push([method, args]);
        };
      }
    }
    const failed = (event.name === 'test_done' && event.test.errors.length > 0) || event.name === 'hook_failure';
    if (failed) {
      for (const [method, args] of this.held.splice(0)) this.originals[method](...args);
    }
    if (event.name === 'run_finish') this.held = [];
  }
}

module.exports = QuietEnvironment;
