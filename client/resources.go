package client

import (
	"encoding/json"
	"net/url"
	"reflect"
	"strconv"
	"strings"
	"sync"
)

// Data holds documented properties of a resource that the SDK has no field
// for, by name, as JSON: an application's globals, a dashboard's blocks, a
// device's attributes, a flow's nodes. The server keeps them as sent.
type Data map[string]json.RawMessage

// Tag is one key and value of a device's tags.
type Tag struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

// TagFilter is one pair of a devices list's tagFilter; an empty Key or
// Value matches any.
type TagFilter struct {
	Key, Value string
}

// DeviceListParams are ListParams with the devices list's filters.
// ParentID set to a pointer to "" keeps devices without a parent.
type DeviceListParams struct {
	ListParams
	DeviceClass []string
	TagFilter   []TagFilter
	ParentID    *string
	// QueryDeleted asks for the recently deleted devices instead (the
	// server keeps none, so the page is empty).
	QueryDeleted bool
}

func (p *DeviceListParams) query() url.Values {
	if p == nil {
		return nil
	}
	q := listQuery(&p.ListParams)
	for _, c := range p.DeviceClass {
		q.Add("deviceClass", c)
	}
	for i, t := range p.TagFilter {
		if t.Key != "" {
			q.Set("tagFilter["+strconv.Itoa(i)+"][key]", t.Key)
		}
		if t.Value != "" {
			q.Set("tagFilter["+strconv.Itoa(i)+"][value]", t.Value)
		}
	}
	if p.ParentID != nil {
		q.Set("parentId", *p.ParentID)
	}
	if p.QueryDeleted {
		q.Set("queryDeleted", "true")
	}
	return q
}

// FlowListParams are ListParams with the flows list's flowClass filter (the
// server lists cloud flows when it is empty).
type FlowListParams struct {
	ListParams
	FlowClass []string
	// TriggerFilter keeps the flows one of whose triggers matches one of
	// these pairs.
	TriggerFilter []TriggerFilter
}

// TriggerFilter is one pair of a flows list's triggerFilter; an empty Key
// or Type matches any.
type TriggerFilter struct {
	Key, Type string
}

func (p *FlowListParams) query() url.Values {
	if p == nil {
		return nil
	}
	q := listQuery(&p.ListParams)
	for _, c := range p.FlowClass {
		q.Add("flowClass", c)
	}
	for i, t := range p.TriggerFilter {
		if t.Key != "" {
			q.Set("triggerFilter["+strconv.Itoa(i)+"][key]", t.Key)
		}
		if t.Type != "" {
			q.Set("triggerFilter["+strconv.Itoa(i)+"][type]", t.Type)
		}
	}
	return q
}

func (o *Owned) UnmarshalJSON(b []byte) error {
	type plain Owned
	return unmarshalWithData(b, (*plain)(o), &o.Data)
}

// MarshalJSON writes the resource back with its data, as the server sent it.
func (o Owned) MarshalJSON() ([]byte, error) {
	type plain Owned
	return marshalWithData(plain(o), o.Data)
}

func (o OwnedPost) MarshalJSON() ([]byte, error) {
	type plain OwnedPost
	return marshalWithData(plain(o), o.Data)
}

func (d *Device) UnmarshalJSON(b []byte) error {
	type plain Device
	return unmarshalWithData(b, (*plain)(d), &d.Data)
}

// MarshalJSON writes the device back with its data, as the server sent it.
func (d Device) MarshalJSON() ([]byte, error) {
	type plain Device
	return marshalWithData(plain(d), d.Data)
}

func (d DevicePost) MarshalJSON() ([]byte, error) {
	type plain DevicePost
	return marshalWithData(plain(d), d.Data)
}

func (f *Flow) UnmarshalJSON(b []byte) error {
	type plain Flow
	return unmarshalWithData(b, (*plain)(f), &f.Data)
}

// MarshalJSON writes the flow back with its data, as the server sent it.
func (f Flow) MarshalJSON() ([]byte, error) {
	type plain Flow
	return marshalWithData(plain(f), f.Data)
}

func (f FlowPost) MarshalJSON() ([]byte, error) {
	type plain FlowPost
	return marshalWithData(plain(f), f.Data)
}

// unmarshalWithData fills v (a pointer to a struct) and puts every other
// property into data.
func unmarshalWithData(b []byte, v any, data *Data) error {
	if err := json.Unmarshal(b, v); err != nil {
		return err
	}
	var all Data
	if err := json.Unmarshal(b, &all); err != nil {
		return err
	}
	for name := range fieldNames(reflect.TypeOf(v).Elem()) {
		delete(all, name)
	}
	if len(all) == 0 {
		all = nil
	}
	*data = all
	return nil
}

// marshalWithData encodes v (a struct) with the properties of data added;
// the struct's own fields win over data of the same name.
func marshalWithData(v any, data Data) ([]byte, error) {
	b, err := json.Marshal(v)
	if err != nil || len(data) == 0 {
		return b, err
	}
	var all map[string]json.RawMessage
	if err := json.Unmarshal(b, &all); err != nil {
		return nil, err
	}
	for k, x := range data {
		if _, ok := all[k]; !ok {
			all[k] = x
		}
	}
	return json.Marshal(all)
}

var fieldNameCache sync.Map // reflect.Type -> map[string]bool

// fieldNames are the JSON names of a struct type's fields.
func fieldNames(t reflect.Type) map[string]bool {
	if m, ok := fieldNameCache.Load(t); ok {
		return m.(map[string]bool)
	}
	m := map[string]bool{}
	for i := range t.NumField() {
		name, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ",")
		if name != "" && name != "-" {
			m[name] = true
		}
	}
	fieldNameCache.Store(t, m)
	return m
}
