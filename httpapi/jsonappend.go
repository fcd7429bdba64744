package httpapi

import (
	"net/http"
	"strconv"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/accountd/accountd"
)

// The token and application lists are answers whose encoding showed in CPU
// profiles (reflection over every field of every item, and a string made
// for every timestamp), so they are appended by hand. The bytes are the
// ones encoding/json writes for apiTokensBody and listBody[ownedBody] with
// HTML escaping off, field for field; jsonappend_test.go holds each two
// side by side.

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
	return appendListTail(dst, b.Count, b.TotalCount, accountd.ListQuery{PerPage: b.PerPage, Page: b.Page,
		SortField: b.SortField, SortDirection: b.SortDirection, FilterField: b.FilterField, Filter: b.Filter})
}

// appendAppList appends newList(items, total, q) of the applications as
// encodeJSON would, newline included.
func appendAppList(dst []byte, apps []*accountd.Application, total int, q accountd.ListQuery) []byte {
	dst = append(dst, `{"items":[`...)
	for i, a := range apps {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = appendOwned(dst, &a.Owned, `,"applicationId":`)
	}
	return appendListTail(dst, len(apps), total, q)
}

// appendOwned appends ownedJSON(o) with its id also under idField (which
// starts with a comma) as encoding/json would.
func appendOwned(dst []byte, o *accountd.Owned, idField string) []byte {
	dst = append(dst, `{"id":`...)
	dst = appendJSONString(dst, o.ID)
	dst = append(dst, idField...)
	dst = appendJSONString(dst, o.ID)
	dst = append(dst, `,"creationDate":`...)
	dst = appendJSONTime(dst, o.CreatedAt)
	dst = append(dst, `,"lastUpdated":`...)
	dst = appendJSONTime(dst, o.UpdatedAt)
	dst = append(dst, `,"ownerId":`...)
	dst = appendJSONString(dst, o.OwnerID)
	dst = append(dst, `,"ownerType":`...)
	dst = appendJSONString(dst, o.OwnerType)
	if o.OrgName != "" {
		dst = append(dst, `,"organizationName":`...)
		dst = appendJSONString(dst, o.OrgName)
	}
	dst = append(dst, `,"name":`...)
	dst = appendJSONString(dst, o.Name)
	dst = append(dst, `,"description":`...)
	dst = appendJSONString(dst, o.Description)
	dst = appendData(dst, o.Data)
	return append(dst, '}')
}

// appendListTail closes the items array and appends the fields every list
// answer has after it (listBody's), then the closing brace and newline.
func appendListTail(dst []byte, count, total int, q accountd.ListQuery) []byte {
	dst = append(dst, `],"count":`...)
	dst = strconv.AppendInt(dst, int64(count), 10)
	dst = append(dst, `,"totalCount":`...)
	dst = strconv.AppendInt(dst, int64(total), 10)
	dst = append(dst, `,"perPage":`...)
	dst = strconv.AppendInt(dst, int64(q.PerPage), 10)
	dst = append(dst, `,"page":`...)
	dst = strconv.AppendInt(dst, int64(q.Page), 10)
	dst = append(dst, `,"sortField":`...)
	dst = appendJSONString(dst, q.SortField)
	dst = append(dst, `,"sortDirection":`...)
	dst = appendJSONString(dst, q.SortDirection)
	if q.FilterField != "" {
		dst = append(dst, `,"filterField":`...)
		dst = appendJSONString(dst, q.FilterField)
	}
	if q.Filter != "" {
		dst = append(dst, `,"filter":`...)
		dst = appendJSONString(dst, q.Filter)
	}
	return append(dst, "}\n"...)
}

// writeAppended answers 200 with the body append builds in a pooled
// buffer.
func writeAppended(w http.ResponseWriter, build func([]byte) []byte) {
	bp := appendBuffers.Get().(*[]byte)
	body := build((*bp)[:0])
	writeBody(w, http.StatusOK, body)
	if cap(body) <= maxPooledBody {
		*bp = body[:0]
		appendBuffers.Put(bp)
	}
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
