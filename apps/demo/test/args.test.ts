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
        '--max-upload',
        '4096',
        '--send-timeout=500',
        '--redis',
        'redis://10.0.0.5:6379',
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
      maxUpload: 4096,
      sendTimeout: 500,
      redis: 'redis://10.0.0.5:6379',
      help: false,
      version: false,
    });
    expect(parseArgs([]).inspector).toBe('watch');
    expect(parseArgs(['--inspector', 'off']).inspector).toBe('off');
    expect(parseArgs(['--help']).help).toBe(true);
    expect(parseArgs([]).maxUpload).toBe(1024 ** 3);
    expect(parseArgs([]).sendTimeout).toBe(30_000);
    expect(parseArgs(['-h']).help).toBe(true);
    expect(parseArgs(['--version']).version).toBe(true);
    expect(() => parseArgs(['--version=1'])).toThrow(/--version takes no value/);
  });

  it('reads --max-upload as bytes, with K, M, G or T as powers of 1024, and 0 as no limit', () => {
    const cases: [string, number][] = [
      ['0', 0],
      ['1000', 1000],
      ['64K', 64 * 1024],
      ['64k', 64 * 1024],
      ['512M', 512 * 1024 ** 2],
      ['1G', 1024 ** 3],
      ['2g', 2 * 1024 ** 3],
      ['1T', 1024 ** 4],
    ];
    for (const [text, bytes] of cases)
      expect(parseArgs([`--max-upload=${text}`]).maxUpload, text).toBe(bytes);
  });

  it('reads --send-timeout in ms, 0 meaning never', () => {
    expect(parseArgs(['--send-timeout', '0']).sendTimeout).toBe(0);
    expect(parseArgs(['--send-timeout', '86400000']).sendTimeout).toBe(86_400_000);
  });

  it('reads --redis as a redis:// or rediss:// URL (default: none)', () => {
    expect(parseArgs([]).redis).toBeNull();
    expect(parseArgs(['--redis=rediss://user:pw@cache.internal:6380/0']).redis).toBe(
      'rediss://user:pw@cache.internal:6380/0',
    );
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
    [['--max-upload'], 'ERR_FLAG_VALUE', /--max-upload needs a value/],
    [['--max-upload', 'lots'], 'ERR_FLAG_VALUE', /--max-upload expects a number of bytes/],
    [['--max-upload', '1.5G'], 'ERR_FLAG_VALUE', /--max-upload expects a number of bytes/],
    [['--max-upload', '1GB'], 'ERR_FLAG_VALUE', /--max-upload expects a number of bytes/],
    [['--max-upload', '10P'], 'ERR_FLAG_VALUE', /--max-upload expects a number of bytes/],
    [['--max-upload=99999999999T'], 'ERR_FLAG_VALUE', /--max-upload is too large/],
    [['--send-timeout', '-5'], 'ERR_FLAG_VALUE', /--send-timeout needs a value|whole number/],
    [['--send-timeout', '1.5'], 'ERR_FLAG_VALUE', /--send-timeout expects a whole number/],
    [['--send-timeout', '86400001'], 'ERR_FLAG_VALUE', /--send-timeout must be between 0 and 86400000/],
    [['--send-timeout='], 'ERR_FLAG_VALUE', /--send-timeout needs a value/],
    [['--redis', 'localhost:6379'], 'ERR_FLAG_VALUE', /--redis expects a redis:\/\/ or rediss:\/\/ URL/],
    [['--redis', 'http://x'], 'ERR_FLAG_VALUE', /--redis expects a redis:\/\/ or rediss:\/\/ URL/],
    [['--redis'], 'ERR_FLAG_VALUE', /--redis needs a value/],
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
      '--max-upload',
      '--send-timeout',
      '--redis',
      '/upload',
      '/chat',
      '--help',
      '--version',
    ]) {
      expect(HELP).toContain(word);
    }
  });
});
