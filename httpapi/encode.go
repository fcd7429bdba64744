package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"sync"

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
	buf := bodyBuffers.Get().(*bytes.Buffer)
	buf.Reset()
	encodeJSONTo(buf, v)
	writeBody(w, status, buf.Bytes())
	if buf.Cap() <= maxPooledBody {
		bodyBuffers.Put(buf)
	}
}

// bodyBuffers keep the buffers answers are encoded into, so that a list
// page does not grow a fresh one from nothing every time; an unusually
// large one is left to the garbage collector.
var bodyBuffers = sync.Pool{New: func() any { return new(bytes.Buffer) }}

const maxPooledBody = 256 << 10

// encodeJSON is the one encoding every body gets.
func encodeJSON(v any) []byte {
	var buf bytes.Buffer
	encodeJSONTo(&buf, v)
	return buf.Bytes()
}

func encodeJSONTo(buf *bytes.Buffer, v any) {
	enc := json.NewEncoder(buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		// only a value no JSON can hold gets here: a bug, not bad input
		panic("httpapi: encoding response: " + err.Error())
	}
}

// writeBody answers with a JSON body, whole: with its length, so a body
// larger than net/http's small buffer is not sent chunked.
func writeBody(w http.ResponseWriter, status int, body []byte) {
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	if status >= 200 && status != http.StatusNoContent && status != http.StatusNotModified {
		h.Set("Content-Length", strconv.Itoa(len(body)))
	}
	w.WriteHeader(status)
	w.Write(body)
}

var success = map[string]bool{"success": true}

// queryInt reads an optional integer query parameter.
func queryInt(r *http.Request, name string, def int) (int, error) {
	return intParam(r.URL.Query(), name, def)
}

// intParam reads an optional integer from query parameters already parsed.
func intParam(qv url.Values, name string, def int) (int, error) {
	v := qv.Get(name)
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		return 0, accountd.Invalid(name, "must be a whole number")
	}
	return n, nil
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
