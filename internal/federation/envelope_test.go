package federation

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestParseEnvelope(t *testing.T) {
	good := `{"more":true,"next":"abc","objects":[{"a":"x\"y","b":[1,2,{"c":null}]},{}],"other":{"d":[true,false,-1.5e3]}}`
	env, err := parseEnvelope([]byte(good))
	if err != nil || !env.More || env.Next != "abc" || len(env.Objects) != 2 || string(env.Objects[0]) != `{"a":"x\"y","b":[1,2,{"c":null}]}` {
		t.Fatalf("parseEnvelope(good) = %+v, %v", env, err)
	}
	for _, bad := range []string{``, `[]`, `{"objects":[1]}`, `{"objects":[{]}`, `{"objects":[{}`, `{"more":"yes"}`,
		`{"objects":[{"a":"\x"}]}`, `{"objects":[{}]} x`, `{"a":1,}`, `{"next":"a\u0041"}`, "{\"a\":\"\x01\"}"} {
		if _, err := parseEnvelope([]byte(bad)); err == nil {
			t.Errorf("parseEnvelope(%q) succeeded", bad)
		}
	}
}

// FuzzParseEnvelope: no panic; whatever it accepts, encoding/json accepts
// too, with the same objects under the member named exactly "objects"
// (encoding/json would also take "Objects" for a struct field).
func FuzzParseEnvelope(f *testing.F) {
	f.Add([]byte(`{"more":false,"objects":[{"type":"indicator","id":"x"}]}`))
	f.Add([]byte(`{"objects":[],"next":"t"}`))
	f.Add([]byte(`{"Objects":[{}]}`)) // not ours: no objects
	f.Fuzz(func(t *testing.T, b []byte) {
		env, err := parseEnvelope(b)
		if err != nil {
			return
		}
		var members map[string]json.RawMessage
		if err := json.Unmarshal(b, &members); err != nil {
			t.Fatalf("parseEnvelope accepted what encoding/json refuses: %q: %v", b, err)
		}
		var objects []json.RawMessage
		if raw, ok := members["objects"]; ok {
			if err := json.Unmarshal(raw, &objects); err != nil {
				t.Fatalf("parseEnvelope accepted objects encoding/json refuses: %q: %v", b, err)
			}
		}
		if len(objects) != len(env.Objects) {
			t.Fatalf("%d objects, encoding/json sees %d", len(env.Objects), len(objects))
		}
		for i := range objects {
			if string(objects[i]) != string(env.Objects[i]) {
				t.Fatalf("object %d is %q, encoding/json sees %q", i, env.Objects[i], objects[i])
			}
		}
	})
}

// TestGetTooLarge: a response larger than any page the partner's server
// writes is refused as too large, not cut and then read.
func TestGetTooLarge(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write(bytes.Repeat([]byte(" "), maxResponse+1))
	}))
	t.Cleanup(srv.Close)
	_, _, err := get(t.Context(), srv.Client(), srv.URL)
	if err == nil || !strings.Contains(err.Error(), "larger than") {
		t.Fatalf("get of %d bytes = %v, want too large", maxResponse+1, err)
	}
}
