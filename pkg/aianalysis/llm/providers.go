package llm

import (
	"context"
	"fmt"
	"slices"
	"strings"

	aiv1 "github.com/kubernaut/kubernaut/apis/aianalysis/v1alpha1"
	"github.com/kubernaut/kubernaut/pkg/aianalysis/investigator"
	"github.com/kubernaut/kubernaut/pkg/shared/text"
)

func sortStrings(s []string) { slices.Sort(s) }

// Paths of the provider APIs.
const (
	HolmesGPTChatPath = "/api/chat"
	OpenAIChatPath    = "/chat/completions"
)

// ---- HolmesGPT ----

// HolmesChatRequest is the body of HolmesGPT's POST /api/chat (fields used by Kubernaut).
type HolmesChatRequest struct {
	Ask                    string         `json:"ask"`
	Model                  string         `json:"model,omitempty"`
	AdditionalSystemPrompt string         `json:"additional_system_prompt,omitempty"`
	ResponseFormat         map[string]any `json:"response_format,omitempty"`
	Stream                 bool           `json:"stream"`
}

// HolmesChatResponse is the answer of POST /api/chat; with response_format, analysis is the
// JSON text of the schema.
type HolmesChatResponse struct {
	Analysis string         `json:"analysis"`
	Metadata map[string]any `json:"metadata,omitempty"`
}

// HolmesGPT investigates through a HolmesGPT server, which runs its own toolsets (kubectl,
// logs, Prometheus) before answering.
type HolmesGPT struct {
	url  string
	opts Options
}

// NewHolmesGPT returns a client of the HolmesGPT server at baseURL.
func NewHolmesGPT(baseURL string, opts Options) *HolmesGPT {
	opts.defaults()
	return &HolmesGPT{url: strings.TrimRight(baseURL, "/") + HolmesGPTChatPath, opts: opts}
}

// Name is "holmesgpt".
func (h *HolmesGPT) Name() string { return investigator.ProviderHolmesGPT }

// Investigate asks HolmesGPT.
func (h *HolmesGPT) Investigate(ctx context.Context, req investigator.Request) (investigator.Finding, error) {
	in := HolmesChatRequest{Ask: UserPrompt(req), Model: h.opts.Model, AdditionalSystemPrompt: SystemPrompt, ResponseFormat: ResponseFormat()}
	var out HolmesChatResponse
	if err := postJSON(ctx, &h.opts, h.url, in, &out); err != nil {
		return investigator.Finding{}, fmt.Errorf("holmesgpt: %w", err)
	}
	f := ParseAnswer(out.Analysis)
	if usage, ok := out.Metadata["usage"].(map[string]any); ok {
		if t, ok := usage["total_tokens"].(float64); ok {
			f.TokensUsed = int64(t)
		}
	}
	return f, nil
}

// ---- OpenAI-compatible ----

// ChatMessage is one chat message.
type ChatMessage struct {
	Role    string `json:"role"`
	Content string `json:"content"`
	Refusal string `json:"refusal,omitempty"`
}

// ChatCompletionRequest is the body of POST /v1/chat/completions.
type ChatCompletionRequest struct {
	Model          string         `json:"model"`
	Messages       []ChatMessage  `json:"messages"`
	ResponseFormat map[string]any `json:"response_format"`
	Temperature    float64        `json:"temperature"`
}

// ChatCompletionResponse is its answer.
type ChatCompletionResponse struct {
	ID      string `json:"id"`
	Object  string `json:"object"`
	Choices []struct {
		Index        int         `json:"index"`
		Message      ChatMessage `json:"message"`
		FinishReason string      `json:"finish_reason"`
	} `json:"choices"`
	Usage struct {
		PromptTokens     int64 `json:"prompt_tokens"`
		CompletionTokens int64 `json:"completion_tokens"`
		TotalTokens      int64 `json:"total_tokens"`
	} `json:"usage"`
}

// OpenAI investigates through any OpenAI-compatible chat-completions endpoint.
type OpenAI struct {
	url  string
	opts Options
}

// NewOpenAI returns a client of the API at baseURL (ending in /v1).
func NewOpenAI(baseURL string, opts Options) *OpenAI {
	opts.defaults()
	return &OpenAI{url: strings.TrimRight(baseURL, "/") + OpenAIChatPath, opts: opts}
}

// Name is "openai".
func (o *OpenAI) Name() string { return investigator.ProviderOpenAI }

// Investigate asks the model.
func (o *OpenAI) Investigate(ctx context.Context, req investigator.Request) (investigator.Finding, error) {
	in := ChatCompletionRequest{
		Model:          o.opts.Model,
		Messages:       []ChatMessage{{Role: "system", Content: SystemPrompt}, {Role: "user", Content: UserPrompt(req)}},
		ResponseFormat: ResponseFormat(),
	}
	var out ChatCompletionResponse
	if err := postJSON(ctx, &o.opts, o.url, in, &out); err != nil {
		return investigator.Finding{}, fmt.Errorf("openai: %w", err)
	}
	if len(out.Choices) == 0 {
		return investigator.Finding{}, fmt.Errorf("openai: the answer has no choices")
	}
	msg := out.Choices[0].Message
	var f investigator.Finding
	if msg.Refusal != "" {
		// Not an outcome: the guardrails refuse it as malformed and the model is asked again.
		f = investigator.Finding{Outcome: aiv1.Outcome("model refusal: " + text.TruncateBytes(msg.Refusal, 200))}
	} else {
		f = ParseAnswer(msg.Content)
	}
	f.TokensUsed = out.Usage.TotalTokens
	return f, nil
}
