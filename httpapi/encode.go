package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/accountd/accountd"
)

// decode reads the request body, checks it against the named component
// schema of our OpenAPI document, and only then unmarshals it into dst, so
// every handler sees a body that keeps the reference's rules.
func (s *Server) decode(r *http.Request, schema string, dst any) error {
	raw, doc, err := readBody(r)
	if err != nil {
		return err
	}
	if err := s.schemas.validate(schema, doc); err != nil {
		return err
	}
	if err := json.Unmarshal(raw, dst); err != nil {
		// The schema passed, so this is a value Go cannot hold (a huge number).
		return accountd.Invalid("body", "has a value out of range")
	}
	return nil
}

// readBody reads the request body as one JSON value, returning its bytes
// and its generic form (numbers as json.Number) for schema checks.
func readBody(r *http.Request) ([]byte, any, error) {
	raw, err := readRaw(r)
	if err != nil {
		return nil, nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var doc any
	if err := dec.Decode(&doc); err != nil {
		return nil, nil, accountd.Invalid("body", "is not valid JSON")
	}
	if dec.More() {
		return nil, nil, accountd.Invalid("body", "must hold a single JSON value")
	}
	return raw, doc, nil
}

// readRaw reads the request body, which must not be empty.
func readRaw(r *http.Request) ([]byte, error) {
	raw, err := io.ReadAll(r.Body)
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return nil, &accountd.Error{Code: accountd.CodeTooLarge,
				Message: "body: must be at most " + strconv.FormatInt(tooBig.Limit, 10) + " bytes"}
		}
		return nil, accountd.Invalid("body", "could not be read")
	}
	if len(bytes.TrimSpace(raw)) == 0 {
		return nil, accountd.Invalid("body", "is required")
	}
	return raw, nil
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	writeBody(w, status, encodeJSON(v))
}

// encodeJSON is the one encoding every body gets.
func encodeJSON(v any) []byte {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		// only a value no JSON can hold gets here: a bug, not bad input
		panic("httpapi: encoding response: " + err.Error())
	}
	return buf.Bytes()
}

func writeBody(w http.ResponseWriter, status int, body []byte) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	w.Write(body)
}

var success = map[string]bool{"success": true}

// queryInt reads an optional integer query parameter.
func queryInt(r *http.Request, name string, def int) (int, error) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		return 0, accountd.Invalid(name, "must be a whole number")
	}
	return n, nil
}

// queryList reads a comma-separated query parameter.
func queryList(r *http.Request, name string) []string {
	var out []string
	for _, v := range strings.Split(r.URL.Query().Get(name), ",") {
		if v = strings.TrimSpace(v); v != "" {
			out = append(out, v)
		}
	}
	return out
}

// pathID reads an id path parameter, rejecting any that is not 24 hex
// characters.
func pathID(r *http.Request, name string) (string, error) {
	id := r.PathValue(name)
	if !accountd.ValidID(id) {
		return "", accountd.Invalid(name, "must be 24 hex characters")
	}
	return id, nil
}
