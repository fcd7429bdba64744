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

// objectFormDocs names the reference schemas holding a device whose tags
// and attributes accountd may answer as objects. device.json and
// devices.json give both only as arrays, yet the device get and list
// actions document tagsAsObject and attributesAsObject, with which the
// platform answers them as objects (tag key to its values, attribute name
// to the attribute). This overlay is the one patch of the reference's
// response schemas for that: it lets exactly those two properties take
// either form, the object form built from the reference's own item
// schemas; everything else is checked as published.
// conformance/lib/reference.js applies the same overlay, and
// TestSchemasKeepReferenceConstraints names the same exception for our
// document.
var objectFormDocs = map[string]bool{"device": true, "devices": true}

// overlayObjectForms applies that overlay to device.json (the device at
// the top) or devices.json (the devices under items).
func overlayObjectForms(name string, v any) any {
	if !objectFormDocs[name] {
		return v
	}
	doc, _ := v.(map[string]any)
	device := doc
	if name == "devices" {
		props, _ := doc["properties"].(map[string]any)
		items, _ := props["items"].(map[string]any)
		device, _ = items["items"].(map[string]any)
	}
	props, _ := device["properties"].(map[string]any)
	if tags, ok := props["tags"].(map[string]any); ok && tags["type"] == "array" {
		item, _ := tags["items"].(map[string]any)
		fields, _ := item["properties"].(map[string]any)
		key, _ := fields["key"].(map[string]any)
		props["tags"] = map[string]any{"oneOf": []any{tags, map[string]any{
			"type":                 "object",
			"propertyNames":        map[string]any{"pattern": key["pattern"]},
			"additionalProperties": map[string]any{"type": "array", "items": fields["value"]},
		}}}
	}
	if attrs, ok := props["attributes"].(map[string]any); ok && attrs["type"] == "array" {
		props["attributes"] = map[string]any{"oneOf": []any{attrs, map[string]any{
			"type":                 "object",
			"additionalProperties": attrs["items"],
		}}}
	}
	return v
}
