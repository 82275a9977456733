// Generates es6-numbers.txt, ECMAScript's Number::toString of a spread of
// IEEE 754 doubles, for TestAppendNumberES6. Run: cd testdata && node es6-numbers.js
let seed = 20261122n;
function rnd64() { // xorshift64*
  seed ^= seed >> 12n; seed ^= (seed << 25n) & 0xffffffffffffffffn; seed ^= seed >> 27n;
  return (seed * 0x2545F4914F6CDD1Dn) & 0xffffffffffffffffn;
}
const buf = new DataView(new ArrayBuffer(8));
const out = new Map();
function add(x) {
  if (!isFinite(x)) return;
  buf.setFloat64(0, x);
  const hex = buf.getBigUint64(0).toString(16).padStart(16, '0');
  out.set(hex, String(x));
}
for (let i = 0; i < 400; i++) { // uniform bit patterns
  buf.setBigUint64(0, rnd64()); add(buf.getFloat64(0));
}
for (let e = -330; e <= 310; e += 1) { // powers of ten and neighbours
  const x = Number('1e' + e); add(x); add(-x);
  buf.setFloat64(0, x); const b = buf.getBigUint64(0);
  if (b > 0n) { buf.setBigUint64(0, b - 1n); add(buf.getFloat64(0)); }
  buf.setBigUint64(0, b + 1n); add(buf.getFloat64(0));
}
for (let i = 0; i < 300; i++) { // short decimals at every scale
  const m = Number(rnd64() % 100000n), e = Number(rnd64() % 60n) - 30;
  add(Number(m + 'e' + e));
}
for (const x of [2**53, 2**53 + 2, 2**53 - 1, 2**63, 2**64, 1e21 - 65536, 5e-324, 1.7976931348623157e308, 0.1, 0.2, 0.1 + 0.2, 1/3, 2/3, 123456789012345680000, 1e-6, 1e-7, 0.000001234, 0.0000001234]) { add(x); add(-x); }
const lines = ['# ECMAScript Number::toString of IEEE 754 doubles, for RFC 8785 section 3.2.2.3.',
  '# Generated with Node.js ' + process.version + ' by es6-numbers.js (String(x)); one "bits expected" per line.'];
for (const [h, s] of out) lines.push(h + ' ' + s);
require('fs').writeFileSync('es6-numbers.txt', lines.join('\n') + '\n');
console.log(out.size);
