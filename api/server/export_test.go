package server

import (
	"github.com/getkin/kin-openapi/openapi3"
	"github.com/gin-gonic/gin"

	"github.com/epom-cz/epom/api/httpx"
	"github.com/epom-cz/epom/modules"
	"github.com/epom-cz/epom/tenants"
)

// GateForTest runs the module gate on c as if op had matched for tenant t.
func GateForTest(c *gin.Context, mods *modules.Registry, op *httpx.Operation, t tenants.Resolved) {
	s := &Server{deps: Deps{Modules: mods}}
	c.Set(keyOperation, op)
	c.Set(keyTenant, t)
	s.gate(c)
}

// RequestSchemasForTest returns the JSON request body schemas of op.
func RequestSchemasForTest(spec *httpx.Spec, op *httpx.Operation) []*openapi3.Schema {
	o := spec.Doc().Paths.Find(op.Path).GetOperation(op.Method)
	if o.RequestBody == nil || o.RequestBody.Value == nil {
		return nil
	}
	var out []*openapi3.Schema
	for _, mt := range o.RequestBody.Value.Content {
		if mt.Schema != nil && mt.Schema.Value != nil {
			out = append(out, mt.Schema.Value)
		}
	}
	return out
}

// OpenObjects lists the JSON pointers of object schemas under s that accept unknown fields.
func OpenObjects(s *openapi3.Schema, at string) []string {
	var out []string
	if s.Type.Is("object") || len(s.Properties) > 0 {
		ap := s.AdditionalProperties
		if ap.Has == nil || *ap.Has || ap.Schema != nil {
			out = append(out, at+"/")
		}
	}
	for name, p := range s.Properties {
		if p.Value != nil {
			out = append(out, OpenObjects(p.Value, at+"/"+name)...)
		}
	}
	if s.Items != nil && s.Items.Value != nil {
		out = append(out, OpenObjects(s.Items.Value, at+"/0")...)
	}
	return out
}
