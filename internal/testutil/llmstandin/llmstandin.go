// Package llmstandin holds local stand-ins for the LLM services the aianalysis service calls:
// HolmesGPT's POST /api/chat and an OpenAI-compatible POST /v1/chat/completions. Each checks a
// request the way the real server does — path, method, bearer token, content type, the body's
// shape (FastAPI's 422 for HolmesGPT, OpenAI's 400 invalid_request_error, including the strict
// json_schema rules of response_format) — records it, and answers with a scripted model reply
// in the real response envelope. FailNext makes the next requests fail with given statuses.
package llmstandin

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// Received is one accepted request, decoded.
type Received struct {
	// System and User are the system prompt and the user prompt (HolmesGPT: additional_system_prompt and ask).
	System, User string
	// Model requested.
	Model string
	// ResponseFormat as sent.
	ResponseFormat map[string]any
	// Body is the raw body.
	Body []byte
}

// Reply is what the scripted model answers.
type Reply struct {
	// Content is the assistant's text (the JSON answer).
	Content string
	// Refusal, when set, is an OpenAI refusal instead of content.
	Refusal string
	// PromptTokens and CompletionTokens are reported as usage.
	PromptTokens, CompletionTokens int
}

// Kind of stand-in.
type Kind int

// Kinds.
const (
	HolmesGPT Kind = iota
	OpenAI
)

// Server is a stand-in LLM service.
type Server struct {
	*httptest.Server
	// Key is the bearer token the server requires ("" requires none, as a HolmesGPT server
	// without an auth proxy).
	Key  string
	kind Kind

	mu       sync.Mutex
	received []Received
	attempts int
	failures []int
	answer   func(Received) Reply
	rejected []string
}

// New starts a stand-in of kind requiring key (closed on cleanup).
func New(t testing.TB, kind Kind, key string) *Server {
	s := &Server{Key: key, kind: kind, answer: func(Received) Reply {
		return Reply{Content: `{"outcome":"manual_review_required","rootCause":"","summary":"","evidence":[],"confidence":0,"manualReviewReason":"stand-in","recommendations":[]}`}
	}}
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.Close)
	return s
}

// BaseURL is what the client is configured with (HolmesGPT: the server root; OpenAI: root + /v1).
func (s *Server) BaseURL() string {
	if s.kind == OpenAI {
		return s.URL + "/v1"
	}
	return s.URL
}

// Answer scripts the model.
func (s *Server) Answer(f func(Received) Reply) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.answer = f
}

// FailNext makes the next requests fail with the given statuses, in order.
func (s *Server) FailNext(codes ...int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failures = append(s.failures, codes...)
}

// Received returns the accepted requests.
func (s *Server) Received() []Received {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.received)
}

// Attempts is how many requests reached the handler (accepted, failed on purpose or rejected).
func (s *Server) Attempts() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.attempts
}

// Rejected lists why requests were refused as malformed (empty when every request was valid).
func (s *Server) Rejected() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.rejected)
}

func (s *Server) path() string {
	if s.kind == OpenAI {
		return "/v1/chat/completions"
	}
	return "/api/chat"
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.attempts++
	s.mu.Unlock()
	if r.URL.Path != s.path() {
		s.fail(w, http.StatusNotFound, "not found: "+r.URL.Path)
		return
	}
	if r.Method != http.MethodPost {
		s.fail(w, http.StatusMethodNotAllowed, "method not allowed: "+r.Method)
		return
	}
	if s.Key != "" && r.Header.Get("Authorization") != "Bearer "+s.Key {
		s.fail(w, http.StatusUnauthorized, "invalid or missing API key")
		return
	}
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		s.fail(w, http.StatusBadRequest, "content type must be application/json, not "+ct)
		return
	}
	s.mu.Lock()
	if len(s.failures) > 0 {
		code := s.failures[0]
		s.failures = s.failures[1:]
		s.mu.Unlock()
		if code == http.StatusTooManyRequests {
			w.Header().Set("Retry-After", "1")
		}
		s.fail(w, code, "injected failure")
		return
	}
	s.mu.Unlock()
	var body map[string]any
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 4<<20))
	dec.UseNumber()
	if err := dec.Decode(&body); err != nil {
		s.reject(w, "body is not a JSON object: "+err.Error())
		return
	}
	raw, _ := json.Marshal(body)
	var rec Received
	var problems []string
	if s.kind == OpenAI {
		rec, problems = checkOpenAI(body)
	} else {
		rec, problems = checkHolmes(body)
	}
	if len(problems) > 0 {
		s.reject(w, strings.Join(problems, "; "))
		return
	}
	rec.Body = raw
	s.mu.Lock()
	s.received = append(s.received, rec)
	answer := s.answer
	s.mu.Unlock()
	reply := answer(rec)
	w.Header().Set("Content-Type", "application/json")
	usage := map[string]any{"prompt_tokens": reply.PromptTokens, "completion_tokens": reply.CompletionTokens, "total_tokens": reply.PromptTokens + reply.CompletionTokens}
	if s.kind == OpenAI {
		msg := map[string]any{"role": "assistant", "content": reply.Content, "refusal": nil}
		if reply.Refusal != "" {
			msg["content"], msg["refusal"] = nil, reply.Refusal
		}
		_ = json.NewEncoder(w).Encode(map[string]any{
			"id": fmt.Sprintf("chatcmpl-%d", time.Now().UnixNano()), "object": "chat.completion", "created": time.Now().Unix(), "model": rec.Model,
			"choices": []any{map[string]any{"index": 0, "message": msg, "finish_reason": "stop", "logprobs": nil}},
			"usage":   usage,
		})
		return
	}
	_ = json.NewEncoder(w).Encode(map[string]any{
		"analysis": reply.Content,
		"conversation_history": []any{
			map[string]any{"role": "system", "content": "You are HolmesGPT. " + rec.System},
			map[string]any{"role": "user", "content": rec.User},
			map[string]any{"role": "assistant", "content": reply.Content},
		},
		"tool_calls": []any{},
		"metadata":   map[string]any{"usage": usage},
	})
}

func (s *Server) reject(w http.ResponseWriter, why string) {
	s.mu.Lock()
	s.rejected = append(s.rejected, why)
	s.mu.Unlock()
	if s.kind == OpenAI {
		s.fail(w, http.StatusBadRequest, why)
		return
	}
	// FastAPI's request validation error.
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusUnprocessableEntity)
	_ = json.NewEncoder(w).Encode(map[string]any{"detail": []any{map[string]any{"type": "value_error", "loc": []string{"body"}, "msg": why}}})
}

func (s *Server) fail(w http.ResponseWriter, code int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	if s.kind == OpenAI {
		typ := "invalid_request_error"
		switch {
		case code == http.StatusUnauthorized:
			typ = "authentication_error"
		case code == http.StatusTooManyRequests:
			typ = "rate_limit_error"
		case code >= 500:
			typ = "server_error"
		}
		_ = json.NewEncoder(w).Encode(map[string]any{"error": map[string]any{"message": msg, "type": typ, "param": nil, "code": nil}})
		return
	}
	_ = json.NewEncoder(w).Encode(map[string]any{"detail": msg})
}

// ---- request checks ----

var schemaName = regexp.MustCompile(`^[a-zA-Z0-9_-]{1,64}$`)

func checkOpenAI(body map[string]any) (Received, []string) {
	var rec Received
	var problems []string
	for k := range body {
		if !slices.Contains([]string{"model", "messages", "response_format", "temperature", "max_tokens", "max_completion_tokens", "seed", "top_p", "stream", "user"}, k) {
			problems = append(problems, "unrecognized request argument supplied: "+k)
		}
	}
	model, ok := body["model"].(string)
	if !ok || model == "" {
		problems = append(problems, "you must provide a model parameter")
	}
	rec.Model = model
	msgs, ok := body["messages"].([]any)
	if !ok || len(msgs) == 0 {
		problems = append(problems, "messages must be a non-empty array")
	}
	for i, m := range msgs {
		mm, ok := m.(map[string]any)
		if !ok {
			problems = append(problems, fmt.Sprintf("messages[%d] must be an object", i))
			continue
		}
		role, _ := mm["role"].(string)
		content, ok := mm["content"].(string)
		if !slices.Contains([]string{"system", "developer", "user", "assistant"}, role) || !ok {
			problems = append(problems, fmt.Sprintf("messages[%d]: invalid role %q or content", i, role))
		}
		switch role {
		case "system", "developer":
			rec.System += content
		case "user":
			rec.User += content
		}
	}
	return withResponseFormat(body, rec, problems)
}

func checkHolmes(body map[string]any) (Received, []string) {
	var rec Received
	var problems []string
	ask, ok := body["ask"].(string)
	if !ok || ask == "" {
		problems = append(problems, "ask: field required (string)")
	}
	rec.User = ask
	if v, ok := body["additional_system_prompt"]; ok && v != nil {
		s, ok := v.(string)
		if !ok {
			problems = append(problems, "additional_system_prompt: must be a string")
		}
		rec.System = s
	}
	if v, ok := body["model"]; ok && v != nil {
		if rec.Model, ok = v.(string); !ok {
			problems = append(problems, "model: must be a string")
		}
	}
	if v, ok := body["stream"]; ok {
		if b, ok := v.(bool); !ok || b {
			problems = append(problems, "stream: this stand-in serves only non-streaming requests")
		}
	}
	if v, ok := body["conversation_history"]; ok && v != nil {
		h, ok := v.([]any)
		if !ok || len(h) == 0 || h[0].(map[string]any)["role"] != "system" {
			problems = append(problems, "The first item in conversation_history must contain 'role': 'system'")
		}
	}
	return withResponseFormat(body, rec, problems)
}

// withResponseFormat records the request's response_format and adds what is wrong with it.
func withResponseFormat(body map[string]any, rec Received, problems []string) (Received, []string) {
	rf, ok := body["response_format"].(map[string]any)
	if !ok {
		return rec, append(problems, "response_format is required by this stand-in (structured output)")
	}
	rec.ResponseFormat = rf
	return rec, append(problems, checkResponseFormat(rf)...)
}

// checkResponseFormat applies OpenAI's structured-output rules (HolmesGPT passes the same
// object to its model through LiteLLM).
func checkResponseFormat(rf map[string]any) []string {
	var problems []string
	if rf["type"] != "json_schema" {
		return []string{fmt.Sprintf("response_format.type must be json_schema, not %v", rf["type"])}
	}
	js, ok := rf["json_schema"].(map[string]any)
	if !ok {
		return []string{"response_format.json_schema is required"}
	}
	if name, _ := js["name"].(string); !schemaName.MatchString(name) {
		problems = append(problems, "response_format.json_schema.name must match ^[a-zA-Z0-9_-]{1,64}$")
	}
	schema, ok := js["schema"].(map[string]any)
	if !ok {
		return append(problems, "response_format.json_schema.schema must be an object")
	}
	if schema["type"] != "object" {
		problems = append(problems, "the root of the schema must be an object")
	}
	if js["strict"] == true {
		problems = append(problems, strictProblems("#", schema)...)
	}
	return problems
}

// strictProblems: in strict mode every object lists all its properties as required and sets
// additionalProperties false.
func strictProblems(path string, s map[string]any) []string {
	var out []string
	switch s["type"] {
	case "object":
		props, _ := s["properties"].(map[string]any)
		if s["additionalProperties"] != false {
			out = append(out, path+": additionalProperties must be false in strict mode")
		}
		req, _ := s["required"].([]any)
		names := map[string]bool{}
		for _, r := range req {
			if n, ok := r.(string); ok {
				names[n] = true
			}
		}
		for name, p := range props {
			if !names[name] {
				out = append(out, fmt.Sprintf("%s: property %q must be required in strict mode", path, name))
			}
			if pm, ok := p.(map[string]any); ok {
				out = append(out, strictProblems(path+"/"+name, pm)...)
			}
		}
	case "array":
		if items, ok := s["items"].(map[string]any); ok {
			out = append(out, strictProblems(path+"/items", items)...)
		} else {
			out = append(out, path+": array without items")
		}
	case "string", "number", "integer", "boolean":
	default:
		out = append(out, fmt.Sprintf("%s: unsupported type %v", path, s["type"]))
	}
	return out
}
