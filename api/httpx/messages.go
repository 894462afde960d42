package httpx

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
)

// Lang is the language of human-readable error texts: Czech unless the client prefers
// English. The UI speaks Czech first, and so does the API.
func Lang(r *http.Request) string {
	for _, part := range strings.Split(r.Header.Get("Accept-Language"), ",") {
		tag := strings.ToLower(strings.TrimSpace(strings.SplitN(part, ";", 2)[0]))
		switch {
		case strings.HasPrefix(tag, "cs"), strings.HasPrefix(tag, "sk"):
			return "cs"
		case strings.HasPrefix(tag, "en"):
			return "en"
		}
	}
	return "cs"
}

// fieldMessage says what is wrong with one value, for a person filling a form.
func fieldMessage(se *openapi3.SchemaError, lang string) string {
	s := se.Schema
	cs := lang != "en"
	pick := func(czech, english string) string {
		if cs {
			return czech
		}
		return english
	}
	switch se.SchemaField {
	case "required":
		return pick("Povinný údaj.", "Required.")
	case "properties", "additionalProperties":
		return pick("Neznámé pole.", "Unknown field.")
	case "type":
		if s != nil && s.Type != nil && len(*s.Type) > 0 {
			t := (*s.Type)[0]
			names := map[string][2]string{
				"string": {"text", "a string"}, "integer": {"celé číslo", "an integer"},
				"number": {"číslo", "a number"}, "boolean": {"ano/ne (true/false)", "true or false"},
				"array": {"seznam", "a list"}, "object": {"objekt", "an object"},
			}
			if n, ok := names[t]; ok {
				return pick("Musí být "+n[0]+".", "Must be "+n[1]+".")
			}
		}
		return pick("Nesprávný typ hodnoty.", "Wrong type of value.")
	case "maxLength":
		if s != nil && s.MaxLength != nil {
			return pick(fmt.Sprintf("Nejvýše %d znaků.", *s.MaxLength), fmt.Sprintf("At most %d characters.", *s.MaxLength))
		}
	case "minLength":
		if s != nil && s.MinLength == 1 {
			return pick("Nesmí být prázdné.", "Must not be empty.")
		}
		if s != nil {
			return pick(fmt.Sprintf("Alespoň %d znaků.", s.MinLength), fmt.Sprintf("At least %d characters.", s.MinLength))
		}
	case "maximum":
		if s != nil && s.Max != nil {
			return pick(fmt.Sprintf("Nejvýše %v.", *s.Max), fmt.Sprintf("At most %v.", *s.Max))
		}
	case "minimum":
		if s != nil && s.Min != nil {
			return pick(fmt.Sprintf("Nejméně %v.", *s.Min), fmt.Sprintf("At least %v.", *s.Min))
		}
	case "maxItems":
		if s != nil && s.MaxItems != nil {
			return pick(fmt.Sprintf("Nejvýše %d položek.", *s.MaxItems), fmt.Sprintf("At most %d items.", *s.MaxItems))
		}
	case "minItems":
		if s != nil {
			return pick(fmt.Sprintf("Alespoň %d položek.", s.MinItems), fmt.Sprintf("At least %d items.", s.MinItems))
		}
	case "enum":
		if s != nil && len(s.Enum) > 0 {
			vals := make([]string, len(s.Enum))
			for i, v := range s.Enum {
				vals[i] = fmt.Sprint(v)
			}
			return pick("Povolené hodnoty: "+strings.Join(vals, ", ")+".", "Allowed values: "+strings.Join(vals, ", ")+".")
		}
	case "pattern", "format":
		if s != nil && s.Description != "" && !cs {
			return "Wrong format: " + s.Description
		}
		return pick("Nesprávný tvar.", "Wrong format.")
	}
	return pick("Neplatná hodnota.", "Invalid value.")
}
