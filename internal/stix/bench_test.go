package stix

import (
	"testing"
)

// benchObject is a 1 KiB indicator, shaped like those Puente exchanges.
const benchObject = `{
  "type": "indicator",
  "spec_version": "2.1",
  "id": "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f",
  "created_by_ref": "identity--f431f809-377b-45e0-aa1c-6a4751cae5ff",
  "created": "2026-04-06T20:03:48.000Z",
  "modified": "2026-04-07T08:15:00.123Z",
  "indicator_types": ["malicious-activity"],
  "name": "Phishing landing page for credential theft",
  "description": "Landing page on a compromised server; its \"Login\" form posts to the attacker.",
  "pattern": "[url:value = 'http://phish.example.net/login/index.php'] OR [domain-name:value = 'phish.example.net']",
  "pattern_type": "stix",
  "valid_from": "2026-04-06T20:03:48Z",
  "kill_chain_phases": [{"kill_chain_name": "lockheed-martin-cyber-kill-chain", "phase_name": "delivery"}],
  "confidence": 85,
  "labels": ["phishing", "banking"],
  "object_marking_refs": ["marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421"],
  "external_references": [{"source_name": "acme-cert", "external_id": "ACME-2026-0417", "url": "https://cert.example.org/advisories/2026-0417"}],
  "x_acme_score": 7.25
}`

func BenchmarkParse(b *testing.B) {
	raw := []byte(benchObject)
	if _, err := Parse(raw); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(raw)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Parse(raw); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkCanonicalize(b *testing.B) {
	raw := []byte(benchObject)
	b.SetBytes(int64(len(raw)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Canonicalize(raw); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkParseTimestamp(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ParseTimestamp("2026-04-07T08:15:00.123456Z"); err != nil {
			b.Fatal(err)
		}
	}
}
