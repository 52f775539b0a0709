// smd-oracle runs server-side apply and field-manager updates through Kubernetes'
// structured-merge-diff library, for differential testing of a reimplementation.
// Input: JSON lines on stdin, one case each:
//   {"schema": "<smd schema as JSON/YAML>", "type": "<root type name>",
//    "steps": [{"op": "apply|update", "manager": "id", "object": {...}, "force": false}]}
// Output: one JSON line per case: {"steps": [{"object": {...}, "managers":
//   {"id": {"fields": <FieldsV1>, "applied": true}}, "conflicts": [{"manager", "path"}],
//   "error": "..."}]}. A step that fails leaves the previous state in place.
package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"

	"sigs.k8s.io/structured-merge-diff/v4/fieldpath"
	"sigs.k8s.io/structured-merge-diff/v4/merge"
	"sigs.k8s.io/structured-merge-diff/v4/typed"
)

type step struct {
	Op      string      `json:"op"`
	Manager string      `json:"manager"`
	Object  interface{} `json:"object"`
	Force   bool        `json:"force"`
}

type request struct {
	Schema string `json:"schema"`
	Type   string `json:"type"`
	Steps  []step `json:"steps"`
}

type managerOut struct {
	Fields  json.RawMessage `json:"fields"`
	Applied bool            `json:"applied"`
}

type conflictOut struct {
	Manager string `json:"manager"`
	Path    string `json:"path"`
}

type stepOut struct {
	Object    interface{}           `json:"object"`
	Managers  map[string]managerOut `json:"managers"`
	Conflicts []conflictOut         `json:"conflicts,omitempty"`
	Error     string                `json:"error,omitempty"`
}

type response struct {
	Steps []stepOut `json:"steps,omitempty"`
	Error string    `json:"error,omitempty"`
}

// sameVersion: every step uses one API version, so no conversion ever happens.
type sameVersion struct{}

func (sameVersion) Convert(o *typed.TypedValue, _ fieldpath.APIVersion) (*typed.TypedValue, error) {
	return o, nil
}
func (sameVersion) IsMissingVersionError(error) bool { return false }

func managersOut(m fieldpath.ManagedFields) (map[string]managerOut, error) {
	out := map[string]managerOut{}
	for name, vs := range m {
		raw, err := vs.Set().ToJSON()
		if err != nil {
			return nil, err
		}
		out[name] = managerOut{Fields: raw, Applied: vs.Applied()}
	}
	return out, nil
}

func run(req request) (resp response) {
	defer func() {
		if p := recover(); p != nil {
			resp = response{Error: fmt.Sprintf("panic: %v", p)}
		}
	}()
	parser, err := typed.NewParser(typed.YAMLObject(req.Schema))
	if err != nil {
		return response{Error: err.Error()}
	}
	pt := parser.Type(req.Type)
	updater := merge.Updater{Converter: sameVersion{}}
	live, err := pt.FromUnstructured(map[string]interface{}{})
	if err != nil {
		return response{Error: err.Error()}
	}
	managers := fieldpath.ManagedFields{}
	const version = fieldpath.APIVersion("v1")
	for _, s := range req.Steps {
		var out stepOut
		obj, err := pt.FromUnstructured(s.Object)
		if err != nil {
			out.Error = err.Error()
			resp.Steps = append(resp.Steps, out)
			continue
		}
		var result *typed.TypedValue
		var next fieldpath.ManagedFields
		if s.Op == "apply" {
			result, next, err = updater.Apply(live, obj, version, managers.Copy(), s.Manager, s.Force)
			if err == nil && result == nil {
				result = live
			}
		} else {
			result, next, err = updater.Update(live, obj, version, managers.Copy(), s.Manager)
		}
		if err != nil {
			out.Error = err.Error()
			if conflicts, ok := err.(merge.Conflicts); ok {
				for _, c := range conflicts {
					out.Conflicts = append(out.Conflicts, conflictOut{c.Manager, c.Path.String()})
				}
			}
		} else {
			live, managers = result, next
		}
		out.Object = live.AsValue().Unstructured()
		if out.Managers, err = managersOut(managers); err != nil {
			out.Error = err.Error()
		}
		resp.Steps = append(resp.Steps, out)
	}
	return resp
}

func main() {
	in := bufio.NewScanner(os.Stdin)
	in.Buffer(make([]byte, 64<<20), 64<<20)
	enc := json.NewEncoder(os.Stdout)
	for in.Scan() {
		var req request
		if err := json.Unmarshal(in.Bytes(), &req); err != nil {
			_ = enc.Encode(response{Error: err.Error()})
			continue
		}
		_ = enc.Encode(run(req))
	}
}
