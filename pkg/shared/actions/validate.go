package actions

import (
	"cmp"
	"errors"
	"fmt"
	"maps"
	"math/big"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/api/validate/content"
	"k8s.io/apimachinery/pkg/labels"
)

// ErrUnknownAction is reported, wrapped, by Validate for a name that is not
// in the catalog.
var ErrUnknownAction = errors.New("unknown action")

// Problem is one thing wrong with the parameters of an action.
type Problem struct {
	// Param is the parameter concerned; empty for a rule about the
	// parameters as a whole, such as "at least one of cpu, memory".
	Param string
	// Message says what is wrong, in lower case.
	Message string
}

// Error returns "param: message", or just the message when Param is empty.
func (p Problem) Error() string {
	if p.Param == "" {
		return p.Message
	}
	return p.Param + ": " + p.Message
}

// ValidationError carries every problem found in the parameters of an
// action.
type ValidationError struct {
	// Action is the name of the action whose parameters were checked.
	Action string
	// Problems lists everything that is wrong.
	Problems []Problem
}

// Error lists all problems, sorted by parameter name then message.
func (e *ValidationError) Error() string {
	problems := slices.Clone(e.Problems)
	sortProblems(problems)
	msgs := make([]string, len(problems))
	for i, p := range problems {
		msgs[i] = p.Error()
	}
	return fmt.Sprintf("invalid parameters for action %q: %s", e.Action, strings.Join(msgs, "; "))
}

// Unwrap returns the problems as errors, so that errors.As can find a
// Problem.
func (e *ValidationError) Unwrap() []error {
	errs := make([]error, len(e.Problems))
	for i, p := range e.Problems {
		errs[i] = p
	}
	return errs
}

// Validate checks the parameters of the named action. It returns nil when they
// are valid, an error wrapping ErrUnknownAction when the action is not in the
// catalog, and otherwise a *ValidationError carrying every problem found.
func Validate(name string, params map[string]string) error {
	a, ok := Lookup(name)
	if !ok {
		return fmt.Errorf("%w %q (known actions: %s)", ErrUnknownAction, name, strings.Join(Names(), ", "))
	}
	if problems := a.Validate(params); len(problems) > 0 {
		return &ValidationError{Action: name, Problems: problems}
	}
	return nil
}

// Validate checks params against the action's parameters and returns every
// problem found, sorted by parameter name then message, or nil when the
// parameters are valid. Absent optional parameters are fine; defaults are not
// required to be filled in beforehand.
func (a Action) Validate(params map[string]string) []Problem {
	var problems []Problem
	for _, name := range slices.Sorted(maps.Keys(params)) {
		if _, ok := a.Param(name); !ok {
			problems = append(problems, Problem{Param: name, Message: a.unknownParamMessage()})
		}
	}
	for _, p := range a.Params {
		value, ok := params[p.Name]
		if !ok {
			if p.Required {
				problems = append(problems, Problem{Param: p.Name, Message: "is required"})
			}
			continue
		}
		problems = append(problems, p.ValidateValue(value)...)
	}
	if a.Check != nil {
		problems = append(problems, a.Check(a.WithDefaults(params))...)
	}
	if len(problems) == 0 {
		return nil
	}
	sortProblems(problems)
	return problems
}

// WithDefaults returns a new map holding params plus the default of every
// absent parameter that has one. params is not modified and may be nil.
func (a Action) WithDefaults(params map[string]string) map[string]string {
	out := make(map[string]string, len(params)+len(a.Params))
	maps.Copy(out, params)
	for _, p := range a.Params {
		if p.Default == "" {
			continue
		}
		if _, ok := out[p.Name]; !ok {
			out[p.Name] = p.Default
		}
	}
	return out
}

func (a Action) unknownParamMessage() string {
	if len(a.Params) == 0 {
		return "unknown parameter (the action takes no parameters)"
	}
	return "unknown parameter (accepted: " + strings.Join(a.ParamNames(), ", ") + ")"
}

// ValidateValue checks one value of the parameter on its own and returns the
// problems found, or nil. An empty value for an optional ParamString
// parameter is accepted, as if the parameter were absent.
func (p Param) ValidateValue(value string) []Problem {
	problem := func(format string, args ...any) []Problem {
		return []Problem{{Param: p.Name, Message: fmt.Sprintf(format, args...)}}
	}
	switch p.Type {
	case ParamString:
		if value == "" {
			if p.Required {
				return problem("is required and must not be empty")
			}
			return nil
		}
		var problems []Problem
		if n := utf8.RuneCountInString(value); p.MaxLength > 0 && n > p.MaxLength {
			problems = append(problems, problem("must be at most %d characters long, got %d", p.MaxLength, n)...)
		}
		if msg := checkFormat(p.Format, value); msg != "" {
			problems = append(problems, problem("%s", msg)...)
		}
		return problems

	case ParamInt:
		n, err := strconv.ParseInt(value, 10, 64)
		if err != nil {
			return problem("must be an integer, got %s", quote(value))
		}
		if p.Min != nil && n < *p.Min {
			return problem("must be at least %d, got %d", *p.Min, n)
		}
		if p.Max != nil && n > *p.Max {
			return problem("must be at most %d, got %d", *p.Max, n)
		}
		return nil

	case ParamBool:
		if value != "true" && value != "false" {
			return problem(`must be "true" or "false", got %s`, quote(value))
		}
		return nil

	case ParamQuantity:
		q, err := resource.ParseQuantity(value)
		if err != nil {
			return problem(`must be a Kubernetes quantity such as "256Mi", "1Gi" or "500m", got %s`, quote(value))
		}
		if q.Sign() <= 0 {
			return problem("must be greater than zero, got %s", quote(value))
		}
		return nil

	case ParamDuration:
		d, err := time.ParseDuration(value)
		if err != nil {
			return problem(`must be a duration such as "30s" or "5m", got %s`, quote(value))
		}
		if d <= 0 {
			return problem("must be greater than zero, got %s", quote(value))
		}
		if p.MaxDuration > 0 && d > p.MaxDuration {
			return problem("must be at most %s, got %s", p.MaxDuration, quote(value))
		}
		return nil

	case ParamEnum:
		if !slices.Contains(p.Enum, value) {
			return problem("must be one of %s, got %s", strings.Join(p.Enum, ", "), quote(value))
		}
		return nil

	case ParamFactor:
		f, err := ParseFactor(value)
		if err != nil {
			return problem(`must be a decimal number such as "1.5", with at most 6 decimal places, got %s`, quote(value))
		}
		if f.Cmp(big.NewRat(1, 1)) <= 0 {
			return problem("must be greater than 1, got %s", quote(value))
		}
		if p.MaxFactor > 0 && f.Cmp(new(big.Rat).SetFloat64(p.MaxFactor)) > 0 {
			return problem("must be at most %s, got %s", strconv.FormatFloat(p.MaxFactor, 'f', -1, 64), quote(value))
		}
		return nil

	default:
		return problem("has unsupported type %q", p.Type)
	}
}

// factorSpelling is how a ParamFactor is written: up to 3 digits, optionally a
// point and up to 6 more; no sign, exponent or fraction bar.
var factorSpelling = regexp.MustCompile(`^[0-9]{1,3}(\.[0-9]{1,6})?$`)

// ParseFactor reads the value of a ParamFactor parameter, a plain decimal
// number such as "1.5" or "2" with at most 6 decimal places, exactly. It checks the spelling only, not the
// bounds (see Param.ValidateValue).
func ParseFactor(value string) (*big.Rat, error) {
	if !factorSpelling.MatchString(value) {
		return nil, fmt.Errorf(`%s is not a decimal number such as "1.5" with at most 6 decimal places`, quote(value))
	}
	f, ok := new(big.Rat).SetString(value)
	if !ok {
		return nil, fmt.Errorf(`%s is not a decimal number such as "1.5"`, quote(value))
	}
	return f, nil
}

// checkFormat returns what is wrong with a non-empty value of the given
// format, or "".
func checkFormat(f Format, value string) string {
	var what string
	var msgs []string
	switch f {
	case FormatNone:
		return ""
	case FormatLabelKey:
		what, msgs = "label key", content.IsLabelKey(value)
	case FormatLabelValue:
		what, msgs = "label value", content.IsLabelValue(value)
	case FormatDNSLabel:
		if len(content.IsDNS1123Label(value)) > 0 {
			return "must be a valid DNS label (at most 63 lower-case alphanumerics or '-', starting and ending with an alphanumeric), got " + quote(value)
		}
		return ""
	case FormatLabelSelector:
		if _, err := labels.Parse(value); err != nil {
			return `must be a valid label selector such as "app=web,tier!=cache": ` + err.Error()
		}
		return ""
	default:
		return fmt.Sprintf("has unsupported format %q", f)
	}
	if len(msgs) == 0 {
		return ""
	}
	return "must be a valid " + what + ": " + strings.Join(msgs, "; ")
}

// quote quotes a value for a message, shortening very long values.
func quote(value string) string {
	const limit = 64
	if utf8.RuneCountInString(value) <= limit {
		return strconv.Quote(value)
	}
	runes := []rune(value)
	return strconv.Quote(string(runes[:limit])) + "..."
}

func sortProblems(problems []Problem) {
	slices.SortStableFunc(problems, func(a, b Problem) int {
		return cmp.Or(cmp.Compare(a.Param, b.Param), cmp.Compare(a.Message, b.Message))
	})
}

// parsedInt returns the value of an integer parameter when it is present and
// parses; for use by CheckFuncs.
func parsedInt(params map[string]string, name string) (int64, bool) {
	v, ok := params[name]
	if !ok {
		return 0, false
	}
	n, err := strconv.ParseInt(v, 10, 64)
	return n, err == nil
}

// parsedQuantity returns the value of a quantity parameter when it is present
// and parses; for use by CheckFuncs.
func parsedQuantity(params map[string]string, name string) (resource.Quantity, bool) {
	v, ok := params[name]
	if !ok || v == "" {
		return resource.Quantity{}, false
	}
	q, err := resource.ParseQuantity(v)
	return q, err == nil
}

// present reports whether a parameter is given with a non-empty value.
func present(params map[string]string, name string) bool {
	return params[name] != ""
}

// atLeastOneOf returns a problem unless at least one of the named parameters
// is present.
func atLeastOneOf(params map[string]string, names ...string) []Problem {
	for _, n := range names {
		if _, ok := params[n]; ok {
			return nil
		}
	}
	return []Problem{{Message: "at least one of " + strings.Join(names, ", ") + " is required"}}
}
