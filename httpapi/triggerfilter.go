package httpapi

import (
	"encoding/json"
	"maps"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/accountd/accountd"
)

// triggerFilterKey matches the items of a triggerFilter in the bracket
// form: triggerFilter[0][key], triggerFilter[0][type].
var triggerFilterKey = regexp.MustCompile(`^triggerFilter\[(\d{1,4})\]\[(key|type)\]$`)

// triggerFilterQuery reads the triggerFilter of a flows list: the bracket
// form (triggerFilter[0][type]=timer) or one JSON array
// (triggerFilter=[{"type":"timer"}]), as flowTriggerFilter describes.
func triggerFilterQuery(qv url.Values) ([]accountd.TriggerFilter, error) {
	byIndex := map[int]*accountd.TriggerFilter{}
	for k, vs := range qv {
		m := triggerFilterKey.FindStringSubmatch(k)
		if m == nil {
			if strings.HasPrefix(k, "triggerFilter[") {
				return nil, accountd.Invalid("triggerFilter", "must be given as triggerFilter[N][key] and triggerFilter[N][type]")
			}
			continue
		}
		i, _ := strconv.Atoi(m[1])
		if byIndex[i] == nil {
			byIndex[i] = &accountd.TriggerFilter{}
		}
		if m[2] == "key" {
			byIndex[i].Key = vs[0]
		} else {
			byIndex[i].Type = vs[0]
		}
	}
	var out []accountd.TriggerFilter
	for _, i := range slices.Sorted(maps.Keys(byIndex)) {
		out = append(out, *byIndex[i])
	}
	if v := qv.Get("triggerFilter"); v != "" {
		var pairs []struct {
			Key  string `json:"key"`
			Type string `json:"type"`
		}
		dec := json.NewDecoder(strings.NewReader(v))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&pairs); err != nil || dec.More() {
			return nil, accountd.Invalid("triggerFilter", "must be a JSON array of {key, type} pairs")
		}
		for _, p := range pairs {
			out = append(out, accountd.TriggerFilter{Key: p.Key, Type: p.Type})
		}
	}
	return out, nil
}
