package httpapi

import (
	"strconv"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/accountd/accountd"
)

// The token list is the one answer whose encoding showed in CPU profiles
// (reflection over every field of every item, and a string made for every
// timestamp), so it is appended by hand. The bytes are the ones
// encoding/json writes for apiTokensBody with HTML escaping off, field for
// field; jsonappend_test.go holds the two side by side.

// appendBuffers keep the buffers hand-appended answers are built in.
var appendBuffers = sync.Pool{New: func() any { b := make([]byte, 0, 4096); return &b }}

// appendTokenList appends b as encodeJSON would, newline included.
func appendTokenList(dst []byte, b *apiTokensBody, tokens []*accountd.Token) []byte {
	dst = append(dst, `{"items":[`...)
	for i, t := range tokens {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = appendToken(dst, t)
	}
	dst = append(dst, `],"count":`...)
	dst = strconv.AppendInt(dst, int64(b.Count), 10)
	dst = append(dst, `,"totalCount":`...)
	dst = strconv.AppendInt(dst, int64(b.TotalCount), 10)
	dst = append(dst, `,"perPage":`...)
	dst = strconv.AppendInt(dst, int64(b.PerPage), 10)
	dst = append(dst, `,"page":`...)
	dst = strconv.AppendInt(dst, int64(b.Page), 10)
	dst = append(dst, `,"sortField":`...)
	dst = appendJSONString(dst, b.SortField)
	dst = append(dst, `,"sortDirection":`...)
	dst = appendJSONString(dst, b.SortDirection)
	if b.FilterField != "" {
		dst = append(dst, `,"filterField":`...)
		dst = appendJSONString(dst, b.FilterField)
	}
	if b.Filter != "" {
		dst = append(dst, `,"filter":`...)
		dst = appendJSONString(dst, b.Filter)
	}
	return append(dst, "}\n"...)
}

// appendToken appends apiTokenJSON(t, "") as encoding/json would.
func appendToken(dst []byte, t *accountd.Token) []byte {
	dst = append(dst, `{"id":`...)
	dst = appendJSONString(dst, t.ID)
	dst = append(dst, `,"apiTokenId":`...)
	dst = appendJSONString(dst, t.ID)
	dst = append(dst, `,"ownerId":`...)
	dst = appendJSONString(dst, t.UserID)
	dst = append(dst, `,"ownerType":"user"`...)
	if t.CreatorID != "" {
		dst = append(dst, `,"creatorId":`...)
		dst = appendJSONString(dst, t.CreatorID)
	}
	if t.CreatorType != "" {
		dst = append(dst, `,"creatorType":`...)
		dst = appendJSONString(dst, t.CreatorType)
	}
	if t.CreatorName != "" {
		dst = append(dst, `,"creatorName":`...)
		dst = appendJSONString(dst, t.CreatorName)
	}
	dst = append(dst, `,"name":`...)
	dst = appendJSONString(dst, t.Name)
	dst = append(dst, `,"description":`...)
	dst = appendJSONString(dst, t.Description)
	dst = append(dst, `,"creationDate":`...)
	dst = appendJSONTime(dst, t.CreatedAt)
	dst = append(dst, `,"lastUpdated":`...)
	dst = appendJSONTime(dst, t.UpdatedAt)
	if !t.ExpiresAt.IsZero() {
		dst = append(dst, `,"expirationDate":`...)
		dst = appendJSONTime(dst, t.ExpiresAt)
	}
	if !t.LastUsedAt.IsZero() {
		dst = append(dst, `,"lastUsed":`...)
		dst = appendJSONTime(dst, t.LastUsedAt)
	}
	dst = append(dst, `,"scope":`...)
	if t.Scope == nil {
		dst = append(dst, "null"...)
	} else {
		dst = append(dst, '[')
		for i, s := range t.Scope {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = appendJSONString(dst, s)
		}
		dst = append(dst, ']')
	}
	dst = append(dst, `,"status":`...)
	dst = appendJSONString(dst, t.Status)
	return append(dst, '}')
}

// appendJSONTime appends accountd.FormatTime(t) as a JSON string; the
// format has nothing to escape.
func appendJSONTime(dst []byte, t time.Time) []byte {
	dst = append(dst, '"')
	dst = t.UTC().AppendFormat(dst, accountd.TimeFormat)
	return append(dst, '"')
}

// appendJSONString appends s quoted as encoding/json quotes strings with
// HTML escaping off: ", \ and control characters escaped (\b \f \n \r \t
// short, the rest as \u00XX), invalid UTF-8 as \ufffd, and U+2028 and
// U+2029 escaped.
func appendJSONString(dst []byte, s string) []byte {
	const hex = "0123456789abcdef"
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		if c := s[i]; c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch c {
			case '"', '\\':
				dst = append(dst, '\\', c)
			case '\b':
				dst = append(dst, '\\', 'b')
			case '\f':
				dst = append(dst, '\\', 'f')
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hex[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}
