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
