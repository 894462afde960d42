// Package httpx is the HTTP plumbing shared by every route: the operation table read from the
// OpenAPI document, request validation, request ids, logging, security headers and recovery.
package httpx

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"

	"github.com/epom-cz/epom/api/problem"
)

// Permission values with a meaning of their own; anything else is "<object>:<action>".
const (
	PermissionPublic        = "public"
	PermissionAuthenticated = "authenticated"
)

// Operation is one operation of the spec, keyed for gin by method and route pattern.
type Operation struct {
	ID         string
	Method     string
	Path       string // as in the spec: /api/v1/tenants/{tenant}
	GinPath    string // as gin reports it: /api/v1/tenants/:tenant
	Permission string // x-permission
	Module     string // the module that owns it ("" for the kernel)
	HasBody    bool
	// MaxBody is the operation's own body limit (x-max-body-bytes), for uploads larger than
	// the server's default; 0 means the default.
	MaxBody int64
	route   *routers.Route
}

// Spec is the parsed OpenAPI document with its operations.
type Spec struct {
	doc *openapi3.T
	ops map[string]*Operation
}

// kernelObjects are permission object prefixes that belong to the kernel, not a module.
// "operator" is the regional operator's console, checked in the kraj's domain.
var kernelObjects = map[string]bool{"tenant": true, "platform": true, "operator": true}

// LoadSpec parses and validates the document.
func LoadSpec(ctx context.Context, data []byte) (*Spec, error) {
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(data)
	if err != nil {
		return nil, fmt.Errorf("parse OpenAPI document: %w", err)
	}
	if err := doc.Validate(ctx); err != nil {
		return nil, fmt.Errorf("invalid OpenAPI document: %w", err)
	}
	s := &Spec{doc: doc, ops: map[string]*Operation{}}
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			perm, _ := op.Extensions["x-permission"].(string)
			o := &Operation{
				ID: op.OperationID, Method: method, Path: path, GinPath: ginPath(path),
				Permission: perm, HasBody: op.RequestBody != nil,
				route: &routers.Route{Spec: doc, Path: path, PathItem: item, Method: method, Operation: op},
			}
			if n, ok := op.Extensions["x-max-body-bytes"].(float64); ok && n > 0 {
				o.MaxBody = int64(n)
			}
			if obj, _, ok := strings.Cut(perm, ":"); ok {
				prefix, _, _ := strings.Cut(obj, ".")
				if !kernelObjects[prefix] {
					o.Module = prefix
				}
			}
			s.ops[method+" "+o.GinPath] = o
		}
	}
	return s, nil
}

// ginPath turns /a/{b}/c into /a/:b/c.
func ginPath(p string) string {
	parts := strings.Split(p, "/")
	for i, part := range parts {
		if strings.HasPrefix(part, "{") && strings.HasSuffix(part, "}") {
			parts[i] = ":" + part[1:len(part)-1]
		}
	}
	return strings.Join(parts, "/")
}

// Lookup finds the operation gin matched.
func (s *Spec) Lookup(method, ginFullPath string) (*Operation, bool) {
	o, ok := s.ops[method+" "+ginFullPath]
	return o, ok
}

// Operations lists every operation, sorted by path and method.
func (s *Spec) Operations() []*Operation {
	out := make([]*Operation, 0, len(s.ops))
	for _, o := range s.ops {
		out = append(out, o)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Path != out[j].Path {
			return out[i].Path < out[j].Path
		}
		return out[i].Method < out[j].Method
	})
	return out
}

// Doc is the parsed document.
func (s *Spec) Doc() *openapi3.T { return s.doc }

// ReadBody reads at most limit bytes of the body and puts them back for the next reader, so
// validation and the handler both see it. An oversized body is a 413 problem.
func ReadBody(r *http.Request, limit int64) ([]byte, *problem.Error) {
	if r.Body == nil || r.Body == http.NoBody {
		return nil, nil
	}
	if r.ContentLength > limit {
		return nil, problem.New(problem.TooLarge, fmt.Sprintf("The body may have at most %d bytes.", limit))
	}
	data, err := io.ReadAll(io.LimitReader(r.Body, limit+1))
	_ = r.Body.Close()
	if err != nil {
		return nil, problem.New(problem.MalformedJSON, "The body could not be read.")
	}
	if int64(len(data)) > limit {
		return nil, problem.New(problem.TooLarge, fmt.Sprintf("The body may have at most %d bytes.", limit))
	}
	r.Body = io.NopCloser(bytes.NewReader(data))
	return data, nil
}

// Validate checks parameters and body of r against op. params are the path parameters.
func (s *Spec) Validate(ctx context.Context, r *http.Request, op *Operation, params map[string]string) *problem.Error {
	err := openapi3filter.ValidateRequest(ctx, &openapi3filter.RequestValidationInput{
		Request:    r,
		PathParams: params,
		Route:      op.route,
		Options: &openapi3filter.Options{
			MultiError:         true,
			AuthenticationFunc: openapi3filter.NoopAuthenticationFunc,
		},
	})
	if err == nil {
		return nil
	}
	return toProblem(err, Lang(r))
}

// toProblem turns kin-openapi's errors into one problem with a field error per violation.
func toProblem(err error, lang string) *problem.Error {
	var fields []problem.FieldError
	kind := problem.Validation
	var walk func(error)
	walk = func(err error) {
		// Direct type checks, not errors.As: a RequestError unwraps to the MultiError of its
		// schema errors, and errors.As would skip the RequestError that names the parameter.
		switch e := err.(type) {
		case openapi3.MultiError:
			for _, inner := range e {
				walk(inner)
			}
			return
		case *openapi3.SchemaError:
			collectSchema(e, lang, &fields)
			return
		case *openapi3filter.RequestError:
			if e.Parameter != nil {
				fields = append(fields, problem.FieldError{Field: e.Parameter.Name, Message: paramMessage(e.Err, lang)})
				return
			}
			var parseErr *openapi3filter.ParseError
			if errors.As(e.Err, &parseErr) {
				kind = problem.MalformedJSON
				return
			}
			if strings.Contains(e.Reason, "header Content-Type has unexpected value") ||
				strings.Contains(errString(e.Err), "unsupported content type") {
				kind = problem.UnsupportedMedia
				return
			}
			if e.Err == nil || errors.Is(e.Err, openapi3filter.ErrInvalidRequired) {
				fields = append(fields, problem.FieldError{Field: "", Message: pickLang(lang, "Chybí tělo požadavku.", "A request body is required.")})
				return
			}
			walk(e.Err)
			return
		}
		fields = append(fields, problem.FieldError{Field: "", Message: err.Error()})
	}
	walk(err)
	switch kind {
	case problem.MalformedJSON:
		return problem.New(problem.MalformedJSON, pickLang(lang, "Tělo požadavku není platný JSON.", "The body is not well-formed JSON."))
	case problem.UnsupportedMedia:
		return problem.New(problem.UnsupportedMedia, pickLang(lang, "Pošlete tělo jako application/json.", "Send the body as application/json."))
	}
	return problem.New(problem.Validation, pickLang(lang, "Některé údaje nejsou platné.", "Some fields are not valid."), fields...)
}

func collectSchema(err error, lang string, fields *[]problem.FieldError) {
	var se *openapi3.SchemaError
	if !errors.As(err, &se) {
		*fields = append(*fields, problem.FieldError{Field: "", Message: err.Error()})
		return
	}
	ptr := se.JSONPointer()
	field := ""
	if len(ptr) > 0 {
		field = "/" + strings.Join(ptr, "/")
	}
	// Missing and unknown properties may be reported on their parent object; name the
	// property itself.
	if rest, ok := strings.CutPrefix(se.Reason, "property \""); ok {
		name, kind, _ := strings.Cut(rest, "\" is ")
		switch kind {
		case "missing":
			se.SchemaField = "required"
		case "unsupported":
			se.SchemaField = "properties"
		}
		if kind != "" && !strings.HasSuffix(field, "/"+name) {
			field += "/" + name
		}
	}
	*fields = append(*fields, problem.FieldError{Field: field, Message: fieldMessage(se, lang)})
}

// paramMessage explains a bad query or path parameter.
func paramMessage(err error, lang string) string {
	var se *openapi3.SchemaError
	if errors.As(err, &se) {
		return fieldMessage(se, lang)
	}
	if errors.Is(err, openapi3filter.ErrInvalidRequired) {
		return pickLang(lang, "Povinný údaj.", "Required.")
	}
	return pickLang(lang, "Neplatná hodnota.", "Invalid value.")
}

func pickLang(lang, cs, en string) string {
	if lang == "en" {
		return en
	}
	return cs
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}
