package apicheck

import (
	"reflect"
	"testing"
)

func TestRepairReference(t *testing.T) {
	inner := map[string]any{"title": "Invitation", "type": "object", "properties": map[string]any{"id": map[string]any{"type": "string"}}}
	broken := func() map[string]any {
		return map[string]any{"type": "array", "items": map[string]any{"type": "object", "properties": inner}}
	}
	if got := repairReference("orgInvites", broken()); !reflect.DeepEqual(got.(map[string]any)["items"], inner) {
		t.Errorf("orgInvites not repaired: %v", got)
	}
	// another document with the same shape is left as published
	if got := repairReference("devices", broken()); !reflect.DeepEqual(got, broken()) {
		t.Errorf("devices changed: %v", got)
	}
	// a fixed reference is used as published
	fixed := map[string]any{"type": "array", "items": inner}
	if got := repairReference("orgInvitesUser", fixed); !reflect.DeepEqual(got, map[string]any{"type": "array", "items": inner}) {
		t.Errorf("fixed document changed: %v", got)
	}
}

func TestOverlayObjectForms(t *testing.T) {
	device := func() map[string]any {
		return map[string]any{"type": "object", "properties": map[string]any{
			"name": map[string]any{"type": "string"},
			"tags": map[string]any{"type": "array", "items": map[string]any{"type": "object", "properties": map[string]any{
				"key": map[string]any{"type": "string", "pattern": "^k$"}, "value": map[string]any{"type": "string", "maxLength": 3}}}},
			"attributes": map[string]any{"type": "array", "items": map[string]any{"type": "object"}},
		}}
	}
	for _, tc := range []struct {
		name   string
		doc    map[string]any
		device func(map[string]any) map[string]any
	}{
		{"device", device(), func(d map[string]any) map[string]any { return d }},
		{"devices", map[string]any{"properties": map[string]any{"items": map[string]any{"type": "array", "items": device()}}},
			func(d map[string]any) map[string]any {
				return d["properties"].(map[string]any)["items"].(map[string]any)["items"].(map[string]any)
			}},
	} {
		props := tc.device(overlayObjectForms(tc.name, tc.doc).(map[string]any))["properties"].(map[string]any)
		tags := props["tags"].(map[string]any)["oneOf"].([]any)
		want := map[string]any{"type": "object", "propertyNames": map[string]any{"pattern": "^k$"},
			"additionalProperties": map[string]any{"type": "array", "items": map[string]any{"type": "string", "maxLength": 3}}}
		if !reflect.DeepEqual(tags[0], device()["properties"].(map[string]any)["tags"]) || !reflect.DeepEqual(tags[1], want) {
			t.Errorf("%s: tags = %v", tc.name, tags)
		}
		attrs := props["attributes"].(map[string]any)["oneOf"].([]any)
		if !reflect.DeepEqual(attrs[1], map[string]any{"type": "object", "additionalProperties": map[string]any{"type": "object"}}) {
			t.Errorf("%s: attributes = %v", tc.name, attrs)
		}
		if !reflect.DeepEqual(props["name"], map[string]any{"type": "string"}) {
			t.Errorf("%s: name changed: %v", tc.name, props["name"])
		}
	}
	// other documents, and documents of another shape, are left as published
	if got := overlayObjectForms("flow", device()); !reflect.DeepEqual(got, device()) {
		t.Errorf("flow changed: %v", got)
	}
	if got := overlayObjectForms("devices", device()); !reflect.DeepEqual(got, device()) {
		t.Errorf("devices of another shape changed: %v", got)
	}
}
