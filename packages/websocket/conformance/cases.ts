/**
 * The Autobahn|Testsuite case catalogue (sections 1-7, 9, 10, 12, 13: 517 cases), rebuilt from the
 * published case descriptions. Payload sizes and counts in sections 9, 12 and 13 follow `Scale`.
 */
import { type CaseDef, type Ev, frame, type Scale, sleep, type Tools } from './harness';

const TEXT = 0x1;
const BIN = 0x2;
const CLOSE = 0x8;
const PING = 0x9;
const PONG = 0xa;

const msg = (opcode: number, data: Buffer | string): Ev => ({
  type: 'message',
  opcode,
  data: typeof data === 'string' ? Buffer.from(data, 'utf8') : data,
});
const pong = (data: Buffer | string): Ev => ({
  type: 'pong',
  data: typeof data === 'string' ? Buffer.from(data) : data,
});
const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');
const fill = (n: number, c = '*') => Buffer.alloc(n, c);
const concat = (...b: Buffer[]) => Buffer.concat(b);

/** Deterministic pseudo-random bytes (xorshift), so runs are reproducible. */
function prng(n: number, seed: number, alphabet?: string): Buffer {
  const out = Buffer.allocUnsafe(n);
  let x = seed | 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = alphabet !== undefined ? alphabet.charCodeAt((x >>> 0) % alphabet.length) : x & 0xff;
  }
  return out;
}

export function buildCases(scale: Scale): CaseDef[] {
  const cases: CaseDef[] = [];
  const add = (
    id: string,
    description: string,
    run: (t: Tools) => Promise<void>,
    expect: CaseDef['expect'],
    offer?: string,
  ): void => {
    cases.push({ id, description, run, expect, ...(offer !== undefined ? { offer } : {}) });
  };
  const W = scale.wait;

  // ---- 1 Framing ----
  const sizes1 = [0, 125, 126, 127, 128, 65535, 65536];
  for (const [sec, opcode, kind] of [
    ['1.1', TEXT, 'text'],
    ['1.2', BIN, 'binary'],
  ] as const) {
    sizes1.forEach((n, i) => {
      const data = opcode === TEXT ? fill(n) : fill(n, '\xfe');
      add(
        `${sec}.${i + 1}`,
        `Send ${kind} message with payload of length ${n}.`,
        (t) => t.send(frame(opcode, data)),
        {
          events: [msg(opcode, data)],
          close: 'normal',
        },
      );
    });
    const data = opcode === TEXT ? fill(65536) : fill(65536, '\xfe');
    add(
      `${sec}.8`,
      `Send ${kind} message with payload of length 65536. Sent out data in chops of 997 octets.`,
      (t) => t.send(frame(opcode, data), 997),
      {
        events: [msg(opcode, data)],
        close: 'normal',
      },
    );
  }

  // ---- 2 Pings/Pongs ----
  add('2.1', 'Send ping without payload.', (t) => t.send(frame(PING, '')), {
    events: [pong('')],
    close: 'normal',
  });
  add('2.2', 'Send ping with small text payload.', (t) => t.send(frame(PING, 'Hello, world!')), {
    events: [pong('Hello, world!')],
    close: 'normal',
  });
  const bin2 = hex('00ff fe fd fc fb 00 ff');
  add('2.3', 'Send ping with small binary (non UTF-8) payload.', (t) => t.send(frame(PING, bin2)), {
    events: [pong(bin2)],
    close: 'normal',
  });
  const b125 = fill(125, '\xfe');
  add('2.4', 'Send ping with binary payload of 125 octets.', (t) => t.send(frame(PING, b125)), {
    events: [pong(b125)],
    close: 'normal',
  });
  add('2.5', 'Send ping with binary payload of 126 octets.', (t) => t.send(frame(PING, fill(126, '\xfe'))), {
    events: [],
    close: 'fail',
  });
  add(
    '2.6',
    'Send ping with binary payload of 125 octets, send in octet-wise chops.',
    (t) => t.send(frame(PING, b125), 1),
    { events: [pong(b125)], close: 'normal' },
  );
  add(
    '2.7',
    'Send unsolicited pong without payload. Verify nothing is received. Clean close with normal code.',
    (t) => t.send(frame(PONG, '')),
    { events: [], close: 'normal' },
  );
  add(
    '2.8',
    'Send unsolicited pong with payload. Verify nothing is received. Clean close with normal code.',
    (t) => t.send(frame(PONG, 'unsolicited pong payload')),
    { events: [], close: 'normal' },
  );
  add(
    '2.9',
    'Send unsolicited pong with payload. Send ping with payload. Verify pong for ping is received.',
    (t) => t.send(concat(frame(PONG, 'unsolicited pong payload'), frame(PING, 'ping payload'))),
    {
      events: [pong('ping payload')],
      close: 'normal',
    },
  );
  const tenPongs = Array.from({ length: 10 }, () => pong('payload-0'));
  add(
    '2.10',
    'Send 10 Pings with payload.',
    async (t) => {
      for (let i = 0; i < 10; i++) await t.send(frame(PING, 'payload-0'));
    },
    { events: tenPongs, close: 'normal' },
  );
  add(
    '2.11',
    'Send 10 Pings with payload. Send out octets in octet-wise chops.',
    async (t) => {
      for (let i = 0; i < 10; i++) await t.send(frame(PING, 'payload-0'), 1);
    },
    { events: tenPongs, close: 'normal' },
  );

  // ---- 3 Reserved Bits ----
  add(
    '3.1',
    'Send small text message with RSV = 1.',
    (t) => t.send(frame(TEXT, 'Hello, world!', { rsv: 1 })),
    { events: [], close: 'fail' },
  );
  const rsvCase = (id: string, rsv: number, chop: number | 'frame') =>
    add(
      id,
      `Send small text message, then send again with RSV = ${rsv}, then send Ping.`,
      async (t) => {
        const frames = [frame(TEXT, 'Hello, world!'), frame(TEXT, 'Hello, world!', { rsv }), frame(PING, '')];
        if (chop === 'frame') for (const f of frames) await t.send(f, 0, 10);
        else await t.send(concat(...frames), chop);
      },
      { events: [msg(TEXT, 'Hello, world!')], close: 'fail' },
    );
  rsvCase('3.2', 2, 'frame');
  rsvCase('3.3', 3, 0);
  rsvCase('3.4', 4, 1);
  add(
    '3.5',
    'Send small binary message with RSV = 5.',
    (t) => t.send(frame(BIN, hex('00ff fe fd fc fb 00 ff'), { rsv: 5 })),
    { events: [], close: 'fail' },
  );
  add('3.6', 'Send Ping with RSV = 6.', (t) => t.send(frame(PING, 'Hello, world!', { rsv: 6 })), {
    events: [],
    close: 'fail',
  });
  add('3.7', 'Send Close with RSV = 7.', (t) => t.send(frame(CLOSE, hex('03e8'), { rsv: 7 })), {
    events: [],
    close: 'fail',
  });

  // ---- 4 Opcodes ----
  for (const [sec, ops] of [
    ['4.1', [3, 4, 5, 6, 7]],
    ['4.2', [11, 12, 13, 14, 15]],
  ] as const) {
    add(
      `${sec}.1`,
      `Send frame with reserved ${sec === '4.1' ? 'non-' : ''}control Opcode = ${ops[0]}.`,
      (t) => t.send(frame(ops[0], '')),
      { events: [], close: 'fail' },
    );
    add(
      `${sec}.2`,
      `Send frame with reserved ${sec === '4.1' ? 'non-' : ''}control Opcode = ${ops[1]} and non-empty payload.`,
      (t) => t.send(frame(ops[1], 'reserved opcode payload')),
      { events: [], close: 'fail' },
    );
    for (let k = 2; k < 5; k++) {
      const op = ops[k]!;
      add(
        `${sec}.${k + 1}`,
        `Send small text message, then send frame with reserved opcode = ${op}${k > 2 ? ' and non-empty payload' : ''}, then send Ping.`,
        async (t) => {
          const frames = [
            frame(TEXT, 'Hello, world!'),
            frame(op, k > 2 ? 'reserved opcode payload' : ''),
            frame(PING, ''),
          ];
          if (k === 4) await t.send(concat(...frames), 1);
          else await t.send(concat(...frames));
        },
        { events: [msg(TEXT, 'Hello, world!')], close: 'fail' },
      );
    }
  }

  // ---- 5 Fragmentation ----
  add(
    '5.1',
    'Send Ping fragmented into 2 fragments.',
    (t) => t.send(concat(frame(PING, 'fragment1', { fin: false }), frame(0, 'fragment2'))),
    { events: [], close: 'fail' },
  );
  add(
    '5.2',
    'Send Pong fragmented into 2 fragments.',
    (t) => t.send(concat(frame(PONG, 'fragment1', { fin: false }), frame(0, 'fragment2'))),
    { events: [], close: 'fail' },
  );
  const two = () => [frame(TEXT, 'fragment1', { fin: false }), frame(0, 'fragment2')];
  add('5.3', 'Send text Message fragmented into 2 fragments.', (t) => t.send(concat(...two())), {
    events: [msg(TEXT, 'fragment1fragment2')],
    close: 'normal',
  });
  add('5.4', 'Same as Case 5.3, but send in octet-wise chops.', (t) => t.send(concat(...two()), 1), {
    events: [msg(TEXT, 'fragment1fragment2')],
    close: 'normal',
  });
  add(
    '5.5',
    'Send text Message fragmented into 2 fragments, one fragment at a time.',
    async (t) => {
      for (const f of two()) await t.send(f, 0, W / 2);
    },
    { events: [msg(TEXT, 'fragment1fragment2')], close: 'normal' },
  );
  const withPing = () => [
    frame(TEXT, 'fragment1', { fin: false }),
    frame(PING, 'ping payload'),
    frame(0, 'fragment2'),
  ];
  const pingExpect = {
    events: [pong('ping payload'), msg(TEXT, 'fragment1fragment2')],
    close: 'normal' as const,
  };
  add(
    '5.6',
    'Send text Message fragmented into 2 fragments, with Ping with payload in-between.',
    (t) => t.send(concat(...withPing())),
    pingExpect,
  );
  add(
    '5.7',
    'Same as Case 5.6, but send in octet-wise chops.',
    (t) => t.send(concat(...withPing()), 1),
    pingExpect,
  );
  add(
    '5.8',
    'Same as Case 5.6, but send in frame-wise chops, with delays.',
    async (t) => {
      for (const f of withPing()) await t.send(f, 0, W / 2);
    },
    pingExpect,
  );
  const orphan = (fin: boolean) => [
    frame(0, 'non-continuation payload', { fin }),
    frame(TEXT, 'Hello, world!'),
  ];
  for (const [ids, fin] of [
    [['5.9', '5.10', '5.11'], true],
    [['5.12', '5.13', '5.14'], false],
  ] as const) {
    const d = `Send unfragmented Text Message after Continuation Frame with FIN = ${fin}, where there is nothing to continue`;
    add(ids[0], `${d}, sent in one chop.`, (t) => t.send(concat(...orphan(fin))), {
      events: [],
      close: 'fail',
    });
    add(
      ids[1],
      `${d}, sent in per-frame chops.`,
      async (t) => {
        for (const f of orphan(fin)) await t.send(f, 0, 10);
      },
      { events: [], close: 'fail' },
    );
    add(ids[2], `${d}, sent in octet-wise chops.`, (t) => t.send(concat(...orphan(fin)), 1), {
      events: [],
      close: 'fail',
    });
  }
  add(
    '5.15',
    'Send text Message fragmented into 2 fragments, then Continuation Frame with FIN = false where there is nothing to continue, then unfragmented Text Message, all sent in one chop.',
    (t) =>
      t.send(
        concat(
          frame(TEXT, 'fragment1', { fin: false }),
          frame(0, 'fragment2'),
          frame(0, 'fragment3', { fin: false }),
          frame(TEXT, 'fragment4'),
        ),
      ),
    { events: [msg(TEXT, 'fragment1fragment2')], close: 'fail' },
  );
  for (const [id, fin] of [
    ['5.16', false],
    ['5.17', true],
  ] as const) {
    add(
      id,
      `Repeated 2x: Continuation Frame with FIN = ${fin} (where there is nothing to continue), then text Message fragmented into 2 fragments.`,
      async (t) => {
        const f = [
          frame(0, 'fragment1', { fin }),
          frame(TEXT, 'fragment2', { fin: false }),
          frame(0, 'fragment3'),
        ];
        await t.send(concat(...f, ...f));
      },
      { events: [], close: 'fail' },
    );
  }
  add(
    '5.18',
    'Send text Message fragmented into 2 fragments, with both frame opcodes set to text, sent in one chop.',
    (t) => t.send(concat(frame(TEXT, 'fragment1', { fin: false }), frame(TEXT, 'fragment2'))),
    { events: [], close: 'fail' },
  );
  const five = () => [
    frame(TEXT, 'fragment1', { fin: false }),
    frame(0, 'fragment2', { fin: false }),
    frame(PING, 'pongme 1!'),
    frame(0, 'fragment3', { fin: false }),
    frame(0, 'fragment4', { fin: false }),
    frame(PING, 'pongme 2!'),
    frame(0, 'fragment5'),
  ];
  const fiveExpect = {
    events: [
      pong('pongme 1!'),
      pong('pongme 2!'),
      msg(TEXT, 'fragment1fragment2fragment3fragment4fragment5'),
    ],
    close: 'normal' as const,
  };
  add(
    '5.19',
    'A fragmented text message is sent in multiple frames. After sending the first 2 frames of the text message, a Ping is sent. Then we wait 1s, then we send 2 more text fragments, another Ping and then the remaining text fragment. Then we wait 1s.',
    async (t) => {
      const f = five();
      await t.send(concat(f[0]!, f[1]!, f[2]!), 0, W);
      await t.send(concat(f[3]!, f[4]!, f[5]!), 0, W);
      await t.send(f[6]!, 0, W);
    },
    fiveExpect,
  );
  add(
    '5.20',
    'Same as Case 5.19, but send all frames with SYNC = True (one TCP segment per frame).',
    async (t) => {
      const f = five();
      for (let i = 0; i < f.length; i++) await t.send(f[i]!, 0, i === 2 || i === 5 ? W : 1);
    },
    fiveExpect,
  );

  // ---- 6 UTF-8 Handling ----
  add('6.1.1', 'Send text message of length 0.', (t) => t.send(frame(TEXT, '')), {
    events: [msg(TEXT, '')],
    close: 'normal',
  });
  add(
    '6.1.2',
    'Send fragmented text message, 3 fragments each of length 0.',
    (t) => t.send(concat(frame(TEXT, '', { fin: false }), frame(0, '', { fin: false }), frame(0, ''))),
    { events: [msg(TEXT, '')], close: 'normal' },
  );
  add(
    '6.1.3',
    'Send fragmented text message, 3 fragments, first and last of length 0, middle non-empty.',
    (t) =>
      t.send(
        concat(
          frame(TEXT, '', { fin: false }),
          frame(0, 'middle frame payload', { fin: false }),
          frame(0, ''),
        ),
      ),
    { events: [msg(TEXT, 'middle frame payload')], close: 'normal' },
  );
  const hello = Buffer.from('Hello-µ@ßöäüàá-UTF-8!!', 'utf8');
  add('6.2.1', 'Send a valid UTF-8 text message in one fragment.', (t) => t.send(frame(TEXT, hello)), {
    events: [msg(TEXT, hello)],
    close: 'normal',
  });
  add(
    '6.2.2',
    'Send a valid UTF-8 text message in two fragments, fragmented on UTF-8 code point boundary.',
    (t) => t.send(concat(frame(TEXT, hello.subarray(0, 12), { fin: false }), frame(0, hello.subarray(12)))),
    { events: [msg(TEXT, hello)], close: 'normal' },
  );
  const perOctet = (b: Buffer) =>
    concat(
      ...Array.from(b, (x, i) => frame(i === 0 ? TEXT : 0, Buffer.from([x]), { fin: i === b.length - 1 })),
    );
  add(
    '6.2.3',
    'Send a valid UTF-8 text message in fragments of 1 octet, resulting in frames ending on positions which are not code point ends.',
    (t) => t.send(perOctet(hello)),
    { events: [msg(TEXT, hello)], close: 'normal' },
  );
  const kosme = hex('cebae1bdb9cf83cebcceb5');
  add(
    '6.2.4',
    'Send a valid UTF-8 text message in fragments of 1 octet, resulting in frames ending on positions which are not code point ends (κόσμε).',
    (t) => t.send(perOctet(kosme)),
    { events: [msg(TEXT, kosme)], close: 'normal' },
  );
  const bad63 = hex('cebae1bdb9cf83cebcceb5eda080656469746564');
  add('6.3.1', 'Send invalid UTF-8 text message unfragmented.', (t) => t.send(frame(TEXT, bad63)), {
    events: [],
    close: 'fail',
    codes: [1007],
  });
  add('6.3.2', 'Send invalid UTF-8 text message in fragments of 1 octet.', (t) => t.send(perOctet(bad63)), {
    events: [],
    close: 'fail',
    codes: [1007],
  });

  // 6.4: fail fast. PART2 makes the message invalid; the server must fail before PART3 is sent.
  const failFast = (id: string, parts: [string, string, string], frames: boolean, d: string) =>
    add(
      id,
      d,
      async (t) => {
        const [p1, p2, p3] = parts.map(hex) as [Buffer, Buffer, Buffer];
        if (frames) {
          await t.send(frame(TEXT, p1, { fin: false }), 0, W);
          await t.send(frame(0, p2, { fin: false }));
          if (!(await t.failedWithin(W))) t.nonStrict = true;
          await t.send(frame(0, p3));
        } else {
          const whole = frame(TEXT, concat(p1, p2, p3));
          const h = whole.length - p1.length - p2.length - p3.length;
          await t.send(whole.subarray(0, h + p1.length), 0, W);
          await t.send(whole.subarray(h + p1.length, h + p1.length + p2.length));
          if (!(await t.failedWithin(W))) t.nonStrict = true;
          await t.send(whole.subarray(h + p1.length + p2.length));
        }
      },
      { events: [], close: 'fail', codes: [1007] },
    );
  const partsA: [string, string, string] = ['cebae1bdb9cf83cebcceb5', 'f4908080', '656469746564'];
  const partsB: [string, string, string] = ['cebae1bdb9cf83cebcceb5f4', '90', '8080656469746564'];
  failFast(
    '6.4.1',
    partsA,
    true,
    'Send invalid UTF-8 text message in 3 fragments (frames). First frame payload is valid, then wait, then 2nd frame which contains the payload making the sequence invalid, then wait, then 3rd frame with rest.',
  );
  failFast(
    '6.4.2',
    partsB,
    true,
    'Same as Case 6.4.1, but in 2nd frame, we send only up to and including the octet making the complete payload invalid.',
  );
  failFast(
    '6.4.3',
    partsA,
    false,
    'Same as Case 6.4.1, but we send message not in 3 frames, but in 3 chops of the same message frame.',
  );
  failFast(
    '6.4.4',
    partsB,
    false,
    'Same as Case 6.4.2, but we send message not in 3 frames, but in 3 chops of the same message frame.',
  );

  // 6.5 - 6.23: Markus Kuhn's UTF-8 decoder test sequences, each sent as one text message.
  const seq = (id: string, d: string, h: string | Buffer, valid: boolean) => {
    const data = typeof h === 'string' ? hex(h) : h;
    add(
      id,
      `Send a text message with payload which is ${valid ? 'valid' : 'not valid'} UTF-8 in one fragment. Payload: 0x${data.toString('hex').slice(0, 64)} (${d})`,
      (t) => t.send(frame(TEXT, data)),
      valid ? { events: [msg(TEXT, data)], close: 'normal' } : { events: [], close: 'fail', codes: [1007] },
    );
  };
  const group = (sec: string, d: string, items: Array<[string | Buffer, boolean]>) =>
    items.forEach(([h, v], i) => {
      seq(`${sec}.${i + 1}`, d, h, v);
    });
  group('6.5', 'Some valid UTF-8 sequences', [
    ['cebae1bdb9cf83cebcceb5', true],
    ['f0908080', true],
    ['f0a08080', true],
    ['f48fbfbf', true],
    ['c2a9e282acf09f9880', true],
  ]);
  group(
    '6.6',
    'All prefixes of a valid UTF-8 string that contains multi-byte code points',
    Array.from({ length: 11 }, (_, i) => {
      const p = kosme.subarray(0, i + 1);
      return [p, [2, 5, 7, 9, 11].includes(i + 1)] as [Buffer, boolean];
    }),
  );
  group('6.7', 'First possible sequence of a certain length', [
    ['00', true],
    ['c280', true],
    ['e0a080', true],
    ['f0908080', true],
  ]);
  group('6.8', 'First possible sequence length 5/6 (invalid codepoints)', [
    ['f888808080', false],
    ['fc8480808080', false],
  ]);
  group('6.9', 'Last possible sequence of a certain length', [
    ['7f', true],
    ['dfbf', true],
    ['efbfbf', true],
    ['f48fbfbf', true],
  ]);
  group('6.10', 'Last possible sequence length 4/5/6 (invalid codepoints)', [
    ['f7bfbfbf', false],
    ['fbbfbfbfbf', false],
    ['fdbfbfbfbfbf', false],
  ]);
  group('6.11', 'Other boundary conditions', [
    ['ed9fbf', true],
    ['ee8080', true],
    ['efbfbd', true],
    ['f48fbfbf', true],
    ['f4908080', false],
  ]);
  group('6.12', 'Unexpected continuation bytes', [
    ['80', false],
    ['bf', false],
    ['80bf', false],
    ['80bf80', false],
    ['80bf80bf', false],
    ['80bf80bf80', false],
    ['80bf80bf80bf', false],
    [Buffer.from(Array.from({ length: 64 }, (_, i) => 0x80 + i)), false],
  ]);
  const lonely = (from: number, to: number) =>
    Buffer.from(Array.from({ length: to - from + 1 }, (_, i) => [from + i, 0x20]).flat());
  group('6.13', 'Lonely start characters', [
    [lonely(0xc0, 0xdf), false],
    [lonely(0xe0, 0xef), false],
    [lonely(0xf0, 0xf7), false],
    [lonely(0xf8, 0xfb), false],
    [lonely(0xfc, 0xfd), false],
  ]);
  const missing = [
    'c0',
    'e080',
    'f08080',
    'f8808080',
    'fc80808080',
    'df',
    'efbf',
    'f7bfbf',
    'fbbfbfbf',
    'fdbfbfbfbf',
  ];
  group(
    '6.14',
    'Sequences with last continuation byte missing',
    missing.map((h) => [h, false] as [string, boolean]),
  );
  group('6.15', 'Concatenation of incomplete sequences', [[missing.join(''), false]]);
  group('6.16', 'Impossible bytes', [
    ['fe', false],
    ['ff', false],
    ['fefeffff', false],
  ]);
  group('6.17', 'Examples of an overlong ASCII character', [
    ['c0af', false],
    ['e080af', false],
    ['f08080af', false],
    ['f8808080af', false],
    ['fc80808080af', false],
  ]);
  group('6.18', 'Maximum overlong sequences', [
    ['c1bf', false],
    ['e09fbf', false],
    ['f08fbfbf', false],
    ['f887bfbfbf', false],
    ['fc83bfbfbfbf', false],
  ]);
  group('6.19', 'Overlong representation of the NUL character', [
    ['c080', false],
    ['e08080', false],
    ['f0808080', false],
    ['f880808080', false],
    ['fc8080808080', false],
  ]);
  group(
    '6.20',
    'Single UTF-16 surrogates',
    ['eda080', 'edadbf', 'edae80', 'edafbf', 'edb080', 'edbe80', 'edbfbf'].map(
      (h) => [h, false] as [string, boolean],
    ),
  );
  group(
    '6.21',
    'Paired UTF-16 surrogates',
    [
      'eda080edb080',
      'eda080edbfbf',
      'edadbfedb080',
      'edadbfedbfbf',
      'edae80edb080',
      'edae80edbfbf',
      'edafbfedb080',
      'edafbfedbfbf',
    ].map((h) => [h, false] as [string, boolean]),
  );
  const nonChars: Array<[string, boolean]> = [
    ['efbfbe', true],
    ['efbfbf', true],
  ];
  for (let plane = 1; plane <= 16; plane++) {
    const cp = plane * 0x10000 + 0xfffe;
    nonChars.push([Buffer.from(String.fromCodePoint(cp), 'utf8').toString('hex'), true]);
    nonChars.push([Buffer.from(String.fromCodePoint(cp + 1), 'utf8').toString('hex'), true]);
  }
  group('6.22', 'Non-character code points (valid UTF-8)', nonChars);
  group(
    '6.23',
    'Unicode specials (i.e. replacement char)',
    ['efbfb9', 'efbfba', 'efbfbb', 'efbfbc', 'efbfbd', 'efbfbe', 'efbfbf'].map(
      (h) => [h, true] as [string, boolean],
    ),
  );

  // ---- 7 Close Handling ----
  const closeFrame = (code: number, reason = '') => {
    const p = Buffer.alloc(2 + Buffer.byteLength(reason));
    p.writeUInt16BE(code, 0);
    p.write(reason, 2);
    return frame(CLOSE, p);
  };
  add(
    '7.1.1',
    'Send a message followed by a close frame.',
    (t) => t.send(concat(frame(TEXT, 'Hello World!'), closeFrame(1000))),
    { events: [msg(TEXT, 'Hello World!')], close: 'normal' },
  );
  add('7.1.2', 'Send two close frames.', (t) => t.send(concat(closeFrame(1000), closeFrame(1000))), {
    events: [],
    close: 'normal',
  });
  add('7.1.3', 'Send a ping after close message.', (t) => t.send(concat(closeFrame(1000), frame(PING, ''))), {
    events: [],
    close: 'normal',
  });
  add(
    '7.1.4',
    'Send text message after sending a close frame.',
    (t) => t.send(concat(closeFrame(1000), frame(TEXT, 'Hello World!'))),
    { events: [], close: 'normal' },
  );
  add(
    '7.1.5',
    'Send message fragment1 followed by close then fragment.',
    (t) => t.send(concat(frame(TEXT, 'fragment1', { fin: false }), closeFrame(1000), frame(0, 'fragment2'))),
    { events: [], close: 'normal' },
  );
  const big716 = fill(256 * 1024, 'BAsd7&jh23');
  add(
    '7.1.6',
    'Send 256K message followed by close then a ping.',
    (t) => t.send(concat(frame(TEXT, big716), closeFrame(1000), frame(PING, 'Hello World!'))),
    {
      events: [],
      extraAllowed: true,
      close: 'normal',
      informational: true,
    },
  );
  add(
    '7.3.1',
    'Send a close frame with payload length 0 (no close code, no close reason).',
    (t) => t.send(frame(CLOSE, '')),
    { events: [], close: 'normal', codes: [1000, 1005] },
  );
  add('7.3.2', 'Send a close frame with payload length 1.', (t) => t.send(frame(CLOSE, 'a')), {
    events: [],
    close: 'fail',
  });
  add(
    '7.3.3',
    'Send a close frame with payload length 2 (regular close with a code).',
    (t) => t.send(closeFrame(1000)),
    { events: [], close: 'normal' },
  );
  add(
    '7.3.4',
    'Send a close frame with close code and close reason.',
    (t) => t.send(closeFrame(1000, 'Hello World!')),
    { events: [], close: 'normal' },
  );
  add(
    '7.3.5',
    'Send a close frame with close code and close reason of maximum length (123).',
    (t) => t.send(closeFrame(1000, '*'.repeat(123))),
    { events: [], close: 'normal' },
  );
  add(
    '7.3.6',
    'Send a close frame with close code and close reason which is too long (124) - total frame payload 126 octets.',
    (t) => t.send(closeFrame(1000, '*'.repeat(124))),
    { events: [], close: 'fail' },
  );
  add(
    '7.5.1',
    'Send a close frame with invalid UTF8 payload.',
    (t) => t.send(frame(CLOSE, concat(hex('03e8'), bad63))),
    { events: [], close: 'fail', codes: [1007] },
  );
  [1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 3000, 3999, 4000, 4999].forEach((code, i) => {
    add(`7.7.${i + 1}`, `Send close with valid close code ${code}.`, (t) => t.send(closeFrame(code)), {
      events: [],
      close: 'normal',
      codes: [code],
    });
  });
  [0, 999, 1004, 1005, 1006, 1016, 1100, 2000, 2999].forEach((code, i) => {
    add(`7.9.${i + 1}`, `Send close with invalid close code ${code}.`, (t) => t.send(closeFrame(code)), {
      events: [],
      close: 'fail',
    });
  });
  add('7.13.1', 'Send close with close code 5000.', (t) => t.send(closeFrame(5000)), {
    events: [],
    close: 'fail',
    informational: true,
  });
  add('7.13.2', 'Send close with close code 65535.', (t) => t.send(closeFrame(65535)), {
    events: [],
    close: 'fail',
    informational: true,
  });

  // ---- 9 Limits/Performance (sizes capped by scale) ----
  const cap = (n: number) => Math.min(n, scale.maxSize);
  const K = 1024;
  const M = 1024 * 1024;
  const perf = (sec: string, opcode: number) => {
    const kind = opcode === TEXT ? 'text' : 'binary';
    [64 * K, 256 * K, M, 4 * M, 8 * M, 16 * M].forEach((n, i) => {
      const data = opcode === TEXT ? fill(cap(n), 'BAsd7&jh23') : prng(cap(n), 7 + i);
      add(
        `${sec}.${i + 1}`,
        `Send ${kind} message message with payload of length ${n} (${cap(n)} in this run).`,
        (t) => t.send(frame(opcode, data)),
        { events: [msg(opcode, data)], close: 'normal' },
      );
    });
  };
  perf('9.1', TEXT);
  perf('9.2', BIN);
  const fragPerf = (sec: string, opcode: number) => {
    [64, 256, K, 4 * K, 16 * K, 64 * K, 256 * K, M, 4 * M].forEach((fs, i) => {
      const n = cap(4 * M);
      const data = opcode === TEXT ? fill(n, 'BAsd7&jh23') : prng(n, 11 + i);
      add(
        `${sec}.${i + 1}`,
        `Send fragmented ${opcode === TEXT ? 'text' : 'binary'} message message with message payload of length 4 * 2**20 (${n} in this run), with fragments of length ${fs}.`,
        (t) => t.message(opcode, data, { fragment: fs }),
        {
          events: [msg(opcode, data)],
          close: 'normal',
        },
      );
    });
  };
  fragPerf('9.3', TEXT);
  fragPerf('9.4', BIN);
  const chopPerf = (sec: string, opcode: number) => {
    [64, 128, 256, 512, 1024, 2048].forEach((chop, i) => {
      const n = cap(M);
      const data = opcode === TEXT ? fill(n, 'BAsd7&jh23') : prng(n, 17 + i);
      add(
        `${sec}.${i + 1}`,
        `Send ${opcode === TEXT ? 'text' : 'binary'} message message with payload of length 1 * 2**20 (${n} in this run), sent in chops of ${chop} octets.`,
        (t) => t.send(frame(opcode, data), chop),
        {
          events: [msg(opcode, data)],
          close: 'normal',
        },
      );
    });
  };
  chopPerf('9.5', TEXT);
  chopPerf('9.6', BIN);
  const roundTrips = (sec: string, opcode: number) => {
    [0, 16, 64, 256, 1024, 4096].forEach((n, i) => {
      const data = opcode === TEXT ? fill(n, 'BAsd7&jh23') : prng(n, 23 + i);
      const count = scale.count;
      add(
        `${sec}.${i + 1}`,
        `Send ${count} ${opcode === TEXT ? 'text' : 'binary'} messages of payload size ${n} to measure implementation/network RTT (round trip time) / latency.`,
        async (t) => {
          for (let k = 0; k < count; k++) {
            await t.send(frame(opcode, data));
            await t.messages(k + 1);
          }
        },
        { events: Array.from({ length: count }, () => msg(opcode, data)), close: 'normal' },
      );
    });
  };
  roundTrips('9.7', TEXT);
  roundTrips('9.8', BIN);

  // ---- 10 Misc ----
  const d10 = fill(65536, 'BAsd7&jh23');
  add(
    '10.1.1',
    'Send text message with payload of length 65536 auto-fragmented with autoFragmentSize = 1300.',
    (t) => t.message(TEXT, d10, { fragment: 1300 }),
    { events: [msg(TEXT, d10)], close: 'normal' },
  );

  // ---- 12, 13 WebSocket Compression ----
  const sizes12: Array<[number, number]> = [
    [16, 0],
    [64, 0],
    [256, 0],
    [1024, 0],
    [4096, 0],
    [8192, 0],
    [16384, 0],
    [32768, 0],
    [65536, 0],
    [131072, 0],
    [256, 256],
    [1024, 256],
    [4096, 256],
    [8192, 256],
    [16384, 256],
    [32768, 256],
    [65536, 256],
    [131072, 256],
  ];
  const corpora: Array<[string, string, number, Buffer]> = [
    ['12.1', 'Large JSON data file (utf8, 194056 bytes)', TEXT, jsonCorpus()],
    ['12.2', 'Lena Picture, Bitmap 512x512 bw (binary, 263222 bytes)', BIN, bitmapCorpus()],
    ['12.3', "Human readable text, Goethe's Faust I (German) (utf8, 222218 bytes)", TEXT, proseCorpus()],
    ['12.4', 'Large HTML file (utf8, 789037 bytes)', TEXT, htmlCorpus()],
    ['12.5', 'A larger PDF (binary, 1042328 bytes)', BIN, prng(1042328, 99)],
  ];
  const compressionCase = (
    id: string,
    d: string,
    offer: string,
    opcode: number,
    corpus: Buffer,
    size: number,
    frag: number,
  ) => {
    const n = Math.min(size, scale.maxSize);
    const count = scale.count;
    const msgs: Buffer[] = [];
    for (let k = 0; k < count; k++) {
      let start = (k * 7919 * 13) % Math.max(1, corpus.length - n);
      if (opcode === TEXT) {
        // start and end on code point boundaries
        while (start < corpus.length && (corpus[start]! & 0xc0) === 0x80) start++;
      }
      let end = Math.min(corpus.length, start + n);
      if (opcode === TEXT) while (end > start && end < corpus.length && (corpus[end]! & 0xc0) === 0x80) end--;
      msgs.push(corpus.subarray(start, end));
    }
    add(
      id,
      `Send ${count} compressed messages each of payload size ${size}${n !== size ? ` (${n} in this run)` : ''}, auto-fragment to ${frag} octets. ${d}`,
      async (t) => {
        // up to 8 messages in flight, like a busy client
        for (let k = 0; k < count; k++) {
          await t.message(opcode, msgs[k]!, { compress: true, fragment: frag });
          if (k >= 8) await t.messages(k - 7, 10_000);
        }
        await t.messages(count, 20_000);
      },
      { events: msgs.map((m) => msg(opcode, m)), close: 'normal' },
      offer,
    );
  };
  for (const [sec, d, opcode, corpus] of corpora) {
    sizes12.forEach(([size, frag], i) => {
      compressionCase(`${sec}.${i + 1}`, d, 'permessage-deflate', opcode, corpus, size, frag);
    });
  }
  const offers13: Array<[string, string]> = [
    ['13.1', 'permessage-deflate'],
    ['13.2', 'permessage-deflate; client_no_context_takeover; server_no_context_takeover'],
    ['13.3', 'permessage-deflate; client_max_window_bits=8; server_max_window_bits=8'],
    ['13.4', 'permessage-deflate; client_max_window_bits=15; server_max_window_bits=15'],
    [
      '13.5',
      'permessage-deflate; client_no_context_takeover; server_no_context_takeover; client_max_window_bits=8; server_max_window_bits=8',
    ],
    [
      '13.6',
      'permessage-deflate; client_no_context_takeover; server_no_context_takeover; client_max_window_bits=15; server_max_window_bits=15',
    ],
    [
      '13.7',
      'permessage-deflate; client_no_context_takeover; server_no_context_takeover; client_max_window_bits=8; server_max_window_bits=8, permessage-deflate; client_no_context_takeover; server_no_context_takeover, permessage-deflate',
    ],
  ];
  const json = corpora[0]![3];
  for (const [sec, offer] of offers13) {
    sizes12.forEach(([size, frag], i) => {
      compressionCase(`${sec}.${i + 1}`, `Offer: ${offer}`, offer, TEXT, json, size, frag);
    });
  }
  return cases;
}

function jsonCorpus(): Buffer {
  const items: string[] = [];
  for (let i = 0, n = 0; n < 194056; i++) {
    n +=
      items[
        items.push(
          JSON.stringify({
            id: i,
            name: `user-${i}`,
            email: `user${i}@example.org`,
            tags: ['alpha', 'beta', 'ünïcödé'],
            score: (i * 37) % 101,
            active: i % 3 === 0,
            note: 'Grüße — ok ✓',
          }),
        ) - 1
      ]!.length + 1;
  }
  return Buffer.from(`[${items.join(',')}]`, 'utf8');
}

function bitmapCorpus(): Buffer {
  const out = Buffer.allocUnsafe(263222);
  for (let i = 0; i < out.length; i++) out[i] = (Math.floor(i / 512) * 3 + (i % 512)) & 0xf0;
  return out;
}

function proseCorpus(): Buffer {
  const lines = [
    'Habe nun, ach! Philosophie, Juristerei und Medizin, und leider auch Theologie',
    'durchaus studiert, mit heißem Bemühn. Da steh ich nun, ich armer Tor!',
    'Und bin so klug als wie zuvor; heiße Magister, heiße Doktor gar',
    'und ziehe schon an die zehen Jahr herauf, herab und quer und krumm',
  ];
  let s = '';
  for (let i = 0; s.length < 222218; i++) s += `${lines[i % 4]} (${i})\n`;
  return Buffer.from(s, 'utf8');
}

function htmlCorpus(): Buffer {
  let s = '<!DOCTYPE html><html><head><title>Test</title></head><body>\n';
  for (let i = 0; s.length < 789037; i++)
    s += `<div class="row r${i % 7}"><a href="/item/${i}">Item ${i}</a> <span>Prix: ${i % 100} €</span></div>\n`;
  return Buffer.from(`${s}</body></html>`, 'utf8');
}

export { sleep };
