package stix

import (
	"bufio"
	"encoding/json"
	"errors"
	"math"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"unicode/utf16"
)

// canonicalTests are known answers for Canonicalize. The first ones are
// the examples of RFC 8785 (sections 3.2.2, 3.2.3) and of its reference
// implementation's test data.
var canonicalTests = []struct {
	name, in, want string
}{
	{
		name: "rfc8785 values",
		in: `{
  "numbers": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001],
  "string": "\u20ac$\u000F\u000aA'\u0042\u0022\u005c\\\"\/",
  "literals": [null, true, false]
}`,
		want: `{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],"string":"€$\u000f\nA'B\"\\\\\"/"}`,
	},
	{
		name: "rfc8785 sorting",
		in: `{
  "\u20ac": "Euro Sign",
  "\r": "Carriage Return",
  "\ufb33": "Hebrew Letter Dalet With Dagesh",
  "1": "One",
  "\ud83d\ude00": "Emoji: Grinning Face",
  "\u0080": "Control",
  "\u00f6": "Latin Small Letter O With Diaeresis"
}`,
		want: "{\"\\r\":\"Carriage Return\",\"1\":\"One\",\"\u0080\":\"Control\",\"\u00f6\":\"Latin Small Letter O With Diaeresis\",\"\u20ac\":\"Euro Sign\",\"😀\":\"Emoji: Grinning Face\",\"\uFB33\":\"Hebrew Letter Dalet With Dagesh\"}",
	},
	{
		name: "weird",
		in: `{
  "\u20ac": "Euro Sign",
  "1": "One",
  "\u0080": "Control\u007f",
  "\ud83d\ude02": "Smiley",
  "\u00f6": "Latin Small Letter O With Diaeresis",
  "\ufb33": "Hebrew Letter Dalet With Dagesh",
  "</script>": "Browser Challenge"
}`,
		want: "{\"1\":\"One\",\"</script>\":\"Browser Challenge\",\"\u0080\":\"Control\u007f\",\"\u00f6\":\"Latin Small Letter O With Diaeresis\",\"\u20ac\":\"Euro Sign\",\"😂\":\"Smiley\",\"\uFB33\":\"Hebrew Letter Dalet With Dagesh\"}",
	},
	{
		name: "structures",
		in:   `{"1": {"f": {"f": "hi","F": 5} ,"\n": 56.0}, "10": { }, "": "empty", "a": { }, "111": [ { } ], "A": { }}`,
		want: `{"":"empty","1":{"\n":56,"f":{"F":5,"f":"hi"}},"10":{},"111":[{}],"A":{},"a":{}}`,
	},
	{
		name: "arrays",
		in:   "[\n  56,\n  {\n    \"d\": true,\n    \"10\": null,\n    \"1\": [ ]\n  }\n]",
		want: `[56,{"1":[],"10":null,"d":true}]`,
	},
	{
		name: "french",
		in:   `{"peach": "This sorting order", "péché": "is wrong according to French", "pêche": "but canonicalization MUST", "sin": "ignore locale"}`,
		want: `{"peach":"This sorting order","péché":"is wrong according to French","pêche":"but canonicalization MUST","sin":"ignore locale"}`,
	},
	{
		name: "unnormalized unicode",
		in:   `{"Unnormalized Unicode":"\u1e0d\u0307"}`,
		want: "{\"Unnormalized Unicode\":\"\u1e0d\u0307\"}",
	},
	{name: "scalar string", in: ` "x" `, want: `"x"`},
	{name: "scalar number", in: "\t-0\r\n", want: `0`},
	{name: "scalar literal", in: `null`, want: `null`},
	{name: "empty object", in: ` { } `, want: `{}`},
	{name: "empty array", in: `[ ]`, want: `[]`},
	{
		name: "escapes",
		in:   `"\b\f\n\r\t\u0000\u001f\u001F\u0020\u007f\/\"\\\u2028\u2029"`,
		want: "\"\\b\\f\\n\\r\\t\\u0000\\u001f\\u001f \u007f/\\\"\\\\\u2028\u2029\"",
	},
	{name: "raw non-ASCII kept", in: "\"h\u00e9llo \U0001F600 \uFFFD\"", want: "\"h\u00e9llo \U0001F600 \uFFFD\""},
	{name: "surrogate pair escape", in: `"\uD834\uDD1E"`, want: "\"\U0001D11E\""},
	{
		name: "utf16 order: supplementary before U+E000 and up",
		in:   "{\"\uFFFD\":1,\"\U00010000\":2,\"\uE000\":3,\"\uD7FF\":4}",
		want: "{\"\uD7FF\":4,\"\U00010000\":2,\"\uE000\":3,\"\uFFFD\":1}",
	},
	{name: "prefix sorts first", in: `{"ab":1,"a":2,"":3}`, want: `{"":3,"a":2,"ab":1}`},
	{name: "nested sorting", in: `{"b":[{"z":1,"y":2}],"a":{"d":{"f":1,"e":2}}}`, want: `{"a":{"d":{"e":2,"f":1}},"b":[{"y":2,"z":1}]}`},
	{name: "integers", in: `[0,-1,10,123456789012345,-123456789012345]`, want: `[0,-1,10,123456789012345,-123456789012345]`},
	{name: "long integers", in: `[1234567890123456,9007199254740993,100000000000000000000,1000000000000000000000]`, want: `[1234567890123456,9007199254740992,100000000000000000000,1e+21]`},
	{name: "fractions", in: `[1.0,1.5e0,0.000001,0.0000001,1E-7,-1.25E+2,1e+0]`, want: `[1,1.5,0.000001,1e-7,1e-7,-125,1]`},
	{name: "negative zero", in: `[-0,-0.0,-0e10,0e-10]`, want: `[0,0,0,0]`},
	{name: "underflow to zero", in: `[1e-400,-1e-400]`, want: `[0,0]`},
	{name: "many digits", in: `[0.1000000000000000055511151231257827,3.14159265358979323846264338327950288]`, want: `[0.1,3.141592653589793]`},
	{name: "max", in: `[1.7976931348623157e308,5e-324]`, want: `[1.7976931348623157e+308,5e-324]`},
	{name: "deep", in: strings.Repeat("[", maxDepth) + strings.Repeat("]", maxDepth), want: strings.Repeat("[", maxDepth) + strings.Repeat("]", maxDepth)},
}

// invalidJSONTests are texts Canonicalize must refuse, with part of the
// error message.
var invalidJSONTests = []struct {
	name, in, want string
}{
	{"empty", ``, "unexpected end of input"},
	{"only space", " \n", "unexpected end of input"},
	{"duplicate", `{"a":1,"a":2}`, `duplicate member name "a"`},
	{"duplicate escaped", `{"a":1,"\u0061":2}`, `duplicate member name "a"`},
	{"duplicate nested", `{"x":[{"b":1,"c":2,"b":3}]}`, `duplicate member name "b"`},
	{"duplicate empty name", `{"":1,"":1}`, `duplicate member name ""`},
	{"invalid utf8", "\"\xff\"", "invalid UTF-8"},
	{"invalid utf8 in name", "{\"\xc3\":1}", "invalid UTF-8"},
	{"overlong utf8", "\"\xc0\xaf\"", "invalid UTF-8"},
	{"utf8 surrogate", "\"\xed\xa0\x80\"", "invalid UTF-8"},
	{"truncated utf8", "\"\xe2\x82\"", "invalid UTF-8"},
	{"lone high surrogate", `"\ud800"`, "lone high surrogate"},
	{"high surrogate then char", `"\ud800x"`, "lone high surrogate"},
	{"two high surrogates", `"\ud800\ud800"`, "lone high surrogate"},
	{"lone low surrogate", `"\udc00"`, "lone low surrogate"},
	{"noncharacter", "\"\uFFFE\"", "noncharacter U+FFFE"},
	{"noncharacter escaped", `"\ufdd0"`, "noncharacter U+FDD0"},
	{"noncharacter plane 16", `"\udbff\udfff"`, "noncharacter U+10FFFF"},
	{"leading zero", `01`, "leading zero"},
	{"negative leading zero", `[-012]`, "leading zero"},
	{"leading zero fraction", `00.5`, "leading zero"},
	{"plus sign", `+1`, "want a value"},
	{"no int digits", `.5`, "want a value"},
	{"minus alone", `-`, "number has no digits"},
	{"no fraction digits", `1.`, "no digits after the decimal point"},
	{"no exponent digits", `1e+`, "no digits in the exponent"},
	{"hex", `0x10`, "data after the top-level value"},
	{"infinity", `1e400`, "out of the range"},
	{"negative infinity", `-1.8e308`, "out of the range"},
	{"NaN", `NaN`, "want a value"},
	{"trailing garbage", `{} x`, "data after the top-level value"},
	{"two values", `1 2`, "data after the top-level value"},
	{"trailing comma object", `{"a":1,}`, "want a member name"},
	{"trailing comma array", `[1,]`, "want a value"},
	{"missing colon", `{"a" 1}`, "want ':'"},
	{"missing comma", `{"a":1 "b":2}`, "want ',' or '}'"},
	{"unclosed object", `{"a":1`, "want ',' or '}'"},
	{"unclosed array", `[1`, "want ',' or ']'"},
	{"single quotes", `{'a':1}`, "want a member name"},
	{"unquoted name", `{a:1}`, "want a member name"},
	{"control char", "\"a\tb\"", "control character 0x09"},
	{"newline in string", "\"a\nb\"", "control character 0x0a"},
	{"nul in string", "\"a\x00b\"", "control character 0x00"},
	{"bad escape", `"\x"`, "invalid escape"},
	{"bad unicode escape", `"\u12G4"`, "invalid \\u escape"},
	{"short unicode escape", `"\u12"`, "invalid \\u escape"},
	{"unterminated string", `"abc`, "unterminated string"},
	{"unterminated escape", `"abc\`, "unterminated string"},
	{"bad literal", `tru`, "want true"},
	{"capital literal", `True`, "want a value"},
	{"byte order mark", "\uFEFF{}", "byte order mark"},
	{"vertical tab space", "\v{}", "want a value"},
	{"nbsp space", "{}\u00a0", "data after the top-level value"},
	{"too deep array", strings.Repeat("[", maxDepth+1) + strings.Repeat("]", maxDepth+1), "nesting deeper than 64"},
	{"too deep object", strings.Repeat(`{"a":`, maxDepth+1) + "1" + strings.Repeat("}", maxDepth+1), "nesting deeper than 64"},
	{"comment", `{} // x`, "data after the top-level value"},
}

func TestCanonicalize(t *testing.T) {
	for _, tc := range canonicalTests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Canonicalize([]byte(tc.in))
			if err != nil {
				t.Fatalf("Canonicalize(%q) error: %v", tc.in, err)
			}
			if string(got) != tc.want {
				t.Errorf("Canonicalize(%q) = %s, want %s", tc.in, got, tc.want)
			}
			again, err := Canonicalize(got)
			if err != nil || string(again) != tc.want {
				t.Errorf("Canonicalize(%s) = %s, %v, want it unchanged", got, again, err)
			}
		})
	}
}

func TestCanonicalizeInvalid(t *testing.T) {
	for _, tc := range invalidJSONTests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Canonicalize([]byte(tc.in))
			if err == nil {
				t.Fatalf("Canonicalize(%q) = %s, want error", tc.in, got)
			}
			if got != nil {
				t.Errorf("Canonicalize(%q) = %q with error, want nil", tc.in, got)
			}
			if !errors.Is(err, ErrInvalid) {
				t.Errorf("Canonicalize(%q) error %v does not wrap ErrInvalid", tc.in, err)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Canonicalize(%q) error %q, want it to contain %q", tc.in, err, tc.want)
			}
		})
	}
}

func TestCanonicalizeErrorFormat(t *testing.T) {
	_, err := Canonicalize([]byte(`{"a":1, "a":2}`))
	const want = `stix: json: offset 0: object has duplicate member name "a": invalid STIX object`
	if err == nil || err.Error() != want {
		t.Errorf("Canonicalize error = %v, want %s", err, want)
	}
}

// rfc8785Numbers is the number serialization table of RFC 8785 Appendix B,
// IEEE 754 bits to ECMAScript text (NaN and Infinity, which JSON cannot
// carry, left out).
var rfc8785Numbers = []struct {
	bits uint64
	want string
}{
	{0x0000000000000000, "0"},
	{0x8000000000000000, "0"}, // minus zero
	{0x0000000000000001, "5e-324"},
	{0x8000000000000001, "-5e-324"},
	{0x7fefffffffffffff, "1.7976931348623157e+308"},
	{0xffefffffffffffff, "-1.7976931348623157e+308"},
	{0x4340000000000000, "9007199254740992"},
	{0xc340000000000000, "-9007199254740992"},
	{0x4430000000000000, "295147905179352830000"},
	{0x44b52d02c7e14af5, "9.999999999999997e+22"},
	{0x44b52d02c7e14af6, "1e+23"},
	{0x44b52d02c7e14af7, "1.0000000000000001e+23"},
	{0x444b1ae4d6e2ef4e, "999999999999999700000"},
	{0x444b1ae4d6e2ef4f, "999999999999999900000"},
	{0x444b1ae4d6e2ef50, "1e+21"},
	{0x3eb0c6f7a0b5ed8c, "9.999999999999997e-7"},
	{0x3eb0c6f7a0b5ed8d, "0.000001"},
	{0x41b3de4355555553, "333333333.3333332"},
	{0x41b3de4355555554, "333333333.33333325"},
	{0x41b3de4355555555, "333333333.3333333"},
	{0x41b3de4355555556, "333333333.3333334"},
	{0x41b3de4355555557, "333333333.33333343"},
	{0xbecbf647612f3696, "-0.0000033333333333333333"},
	{0x43143ff3c1cb0959, "1424953923781206.2"},
}

func TestAppendNumberRFC8785(t *testing.T) {
	for _, tc := range rfc8785Numbers {
		f := math.Float64frombits(tc.bits)
		if got := string(appendNumber(nil, f)); got != tc.want {
			t.Errorf("appendNumber(%016x) = %s, want %s", tc.bits, got, tc.want)
		}
		// And through the parser, from Go's shortest 'g' form.
		in := strconv.FormatFloat(f, 'g', -1, 64)
		if got, err := Canonicalize([]byte(in)); err != nil || string(got) != tc.want {
			t.Errorf("Canonicalize(%s) = %s, %v, want %s", in, got, err, tc.want)
		}
	}
}

// TestAppendNumberES6 checks appendNumber against testdata/es6-numbers.txt,
// doubles written by a JavaScript engine (see the file's header).
func TestAppendNumberES6(t *testing.T) {
	f, err := os.Open("testdata/es6-numbers.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	n := 0
	for sc.Scan() {
		line := sc.Text()
		if line == "" || line[0] == '#' {
			continue
		}
		hex, want, ok := strings.Cut(line, " ")
		bits, err := strconv.ParseUint(hex, 16, 64)
		if !ok || err != nil {
			t.Fatalf("bad line %q", line)
		}
		if got := string(appendNumber(nil, math.Float64frombits(bits))); got != want {
			t.Errorf("appendNumber(%s) = %s, want %s", hex, got, want)
		}
		n++
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if n < 1000 {
		t.Errorf("read %d vectors, want at least 1000", n)
	}
}

func TestCompareUTF16(t *testing.T) {
	strs := []string{"", "a", "ab", "b", "\u007f", "\u0080", "\u00ff", "\u0100", "\u07ff", "\u0800",
		"\ud7ff", "\ue000", "\uffef", "\ufffd", "\U00010000", "\U0001F600", "\U0010FFFD", "a\U00010000", "a\ue000"}
	for _, a := range strs {
		for _, b := range strs {
			want := compareUnits(utf16.Encode([]rune(a)), utf16.Encode([]rune(b)))
			if got := compareUTF16([]byte(a), []byte(b)); got != want {
				t.Errorf("compareUTF16(%+q, %+q) = %d, want %d", a, b, got, want)
			}
		}
	}
}

func compareUnits(a, b []uint16) int {
	for i := 0; i < len(a) && i < len(b); i++ {
		if a[i] != b[i] {
			if a[i] < b[i] {
				return -1
			}
			return 1
		}
	}
	switch {
	case len(a) < len(b):
		return -1
	case len(a) > len(b):
		return 1
	}
	return 0
}

func TestSortMembers(t *testing.T) {
	names := []string{"", "a", "a\x00", "a\x00\x00", "ab", "abcdefgh", "abcdefgh\x00", "abcdefghi", "abcdefgg", "b",
		"created", "created_by_ref", "\u007f", "\u0080", "\ud7ff", "\ue000", "\uffef", "\U00010000", "\U0001F600",
		"abcdefgh\ue000", "abcdefgh\U00010000", "\ue000a", "\U00010000a", "x_", "x_acme", "id", "type", "z"}
	for _, n := range []int{2, 5, 24, len(names)} { // insertion sort and pdqsort
		in := slices.Clone(names[:n])
		rand.New(rand.NewPCG(1, uint64(n))).Shuffle(n, func(i, j int) { in[i], in[j] = in[j], in[i] })
		var b strings.Builder
		b.WriteByte('{')
		for i, name := range in {
			if i > 0 {
				b.WriteByte(',')
			}
			q, _ := json.Marshal(name)
			b.Write(q)
			b.WriteString(":0")
		}
		b.WriteByte('}')
		tr := getTree()
		if err := tr.parse([]byte(b.String())); err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, m := range tr.members(&tr.nodes[0]) {
			got = append(got, string(tr.bytes(m.name)))
		}
		putTree(tr)
		want := slices.Clone(names[:n])
		slices.SortFunc(want, func(a, b string) int {
			return compareUnits(utf16.Encode([]rune(a)), utf16.Encode([]rune(b)))
		})
		if !slices.Equal(got, want) {
			t.Errorf("members of %s sorted as %+q, want %+q", b.String(), got, want)
		}
	}
}

func TestEscapable(t *testing.T) {
	for c := range 256 {
		for k := range 8 {
			w := []byte("aaaaaaaa")
			w[k] = byte(c)
			want := c < 0x20 || c == '"' || c == '\\'
			if got := escapable(loadWord(w, 0)); got != want {
				t.Errorf("escapable(%q) = %v, want %v", w, got, want)
			}
			wantPlain := 8
			if !plain[c] {
				wantPlain = k
			}
			if got := skipPlain(w, 0); got != wantPlain {
				t.Errorf("skipPlain(%q, 0) = %d, want %d", w, got, wantPlain)
			}
		}
	}
}
