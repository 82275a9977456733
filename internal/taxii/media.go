package taxii

import (
	"mime"
	"strconv"
	"strings"
)

// Media types of TAXII 2.1 (section 1.6.8) and STIX 2.1.
const (
	mediaTAXII = "application/taxii+json;version=2.1"
	mediaSTIX  = "application/stix+json;version=2.1"
)

// acceptable reports whether an Accept header admits a TAXII 2.1 response.
// A missing header admits anything (RFC 9110 §12.5.1). Ranges are matched
// with their parameters: application/taxii+json with no version, or with
// version 2.1, matches; so do application/* and */*. A range with q=0
// excludes. Ranges that cannot be parsed are ignored.
func acceptable(header []string) bool {
	if len(header) == 0 {
		return true
	}
	for _, h := range header {
		for r := range strings.SplitSeq(h, ",") {
			r = strings.TrimSpace(r)
			if r == "" {
				continue
			}
			mt, params, err := mime.ParseMediaType(r)
			if err != nil {
				continue
			}
			if q, ok := params["q"]; ok {
				f, err := strconv.ParseFloat(q, 64)
				if err != nil || f <= 0 {
					continue
				}
			}
			switch mt {
			case "*/*", "application/*":
				return true
			case "application/taxii+json":
				if v, ok := params["version"]; !ok || v == "2.1" {
					return true
				}
			}
		}
	}
	return false
}

// taxiiContent reports whether a Content-Type header names TAXII 2.1
// content: application/taxii+json, with no version or version 2.1.
func taxiiContent(header string) bool {
	mt, params, err := mime.ParseMediaType(header)
	if err != nil || mt != "application/taxii+json" {
		return false
	}
	for k, v := range params {
		switch k {
		case "version":
			if v != "2.1" {
				return false
			}
		case "charset":
			if !strings.EqualFold(v, "utf-8") {
				return false
			}
		default:
			return false
		}
	}
	return true
}
