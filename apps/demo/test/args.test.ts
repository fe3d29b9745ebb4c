import { describe, expect, it } from 'vitest';
import { ArgsError, DEFAULTS, HELP, parseArgs } from '../src/args';

describe('parseArgs', () => {
  it('applies the defaults', () => {
    expect(parseArgs([])).toEqual(DEFAULTS);
    expect(parseArgs(['serve'])).toEqual(DEFAULTS);
  });

  it('reads every flag, in both --flag value and --flag=value forms', () => {
    expect(
      parseArgs([
        'echo',
        '--port',
        '0',
        '--host=::1',
        '--workers',
        '3',
        '--tls-cert',
        'c.pem',
        '--tls-key=k.pem',
        '--static',
        '/srv/www',
        '--log',
        '--inspector=on',
      ]),
    ).toEqual({
      mode: 'echo',
      port: 0,
      host: '::1',
      workers: 3,
      tlsCert: 'c.pem',
      tlsKey: 'k.pem',
      staticDir: '/srv/www',
      log: true,
      inspector: 'on',
      help: false,
    });
    expect(parseArgs([]).inspector).toBe('watch');
    expect(parseArgs(['--inspector', 'off']).inspector).toBe('off');
    expect(parseArgs(['--help']).help).toBe(true);
    expect(parseArgs(['-h']).help).toBe(true);
  });

  const bad: [string[], string, RegExp][] = [
    [['--nope'], 'ERR_UNKNOWN_FLAG', /unknown flag '--nope'/],
    [['--port'], 'ERR_FLAG_VALUE', /--port needs a value/],
    [['--port', '--log'], 'ERR_FLAG_VALUE', /--port needs a value/],
    [['--port=abc'], 'ERR_FLAG_VALUE', /whole number/],
    [['--port', '65536'], 'ERR_FLAG_VALUE', /between 0 and 65535/],
    [['--port', '-1'], 'ERR_FLAG_VALUE', /--port needs a value|whole number/],
    [['--port', '0x10'], 'ERR_FLAG_VALUE', /whole number/],
    [['--workers', '0'], 'ERR_FLAG_VALUE', /between 1 and 256/],
    [['--host='], 'ERR_FLAG_VALUE', /--host needs a value/],
    [['--log=yes'], 'ERR_FLAG_VALUE', /takes no value/],
    [['--inspector', 'always'], 'ERR_FLAG_VALUE', /--inspector expects watch, on or off/],
    [['--inspector'], 'ERR_FLAG_VALUE', /--inspector needs a value/],
    [['proxy'], 'ERR_MODE', /unknown mode 'proxy'/],
    [['serve', 'echo'], 'ERR_ARGUMENT', /unexpected argument 'echo'/],
    [['--tls-cert', 'c.pem'], 'ERR_TLS_PAIR', /together/],
    [['--tls-key', 'k.pem'], 'ERR_TLS_PAIR', /together/],
  ];
  for (const [argv, code, message] of bad) {
    it(`refuses ${argv.join(' ')} with ${code}`, () => {
      let caught: unknown;
      try {
        parseArgs(argv);
      } catch (e) {
        caught = e;
      }
      expect(caught).toBeInstanceOf(ArgsError);
      expect((caught as ArgsError).code).toBe(code);
      expect((caught as ArgsError).message).toMatch(message);
      expect((caught as ArgsError).message).not.toContain('\n');
    });
  }

  it('documents every flag and mode in the help text', () => {
    for (const word of [
      'serve',
      'echo',
      '--port',
      '--host',
      '--workers',
      '--tls-cert',
      '--tls-key',
      '--static',
      '--log',
      '--inspector',
      '--help',
    ]) {
      expect(HELP).toContain(word);
    }
  });
});
