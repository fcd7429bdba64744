package apicheck

// misnestedItems names the reference schemas whose array items hold an
// object schema one level too deep: "items": {"properties": {"title": ...,
// "type": "object", "properties": {...}}}. As published they fail the
// draft-07 meta-schema (a property's schema cannot be a string), so they
// cannot be compiled; the intended item schema is plainly the inner one.
var misnestedItems = map[string]bool{"orgInvites": true, "orgInvitesUser": true}

// repairReference lifts the misnested item schema of exactly those
// documents into place, and only while the defect is there: once the
// reference is fixed, the document is used as published. Every other
// reference schema is used untouched.
func repairReference(name string, v any) any {
	if !misnestedItems[name] {
		return v
	}
	doc, ok := v.(map[string]any)
	if !ok {
		return v
	}
	items, ok := doc["items"].(map[string]any)
	if !ok {
		return v
	}
	inner, ok := items["properties"].(map[string]any)
	if !ok || inner["type"] != "object" {
		return v
	}
	if _, ok := inner["properties"].(map[string]any); !ok {
		return v
	}
	doc["items"] = inner
	return doc
}
