package httpapi

import (
	"bufio"
	"context"
	"crypto/subtle"
	"fmt"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"

	authnv1 "k8s.io/api/authentication/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
)

// Authenticator decides whether a bearer token may call the API.
type Authenticator interface {
	// Authenticate returns the caller's name, or an error when the token is not accepted.
	Authenticate(ctx context.Context, token string) (string, error)
}

// NoAuth accepts every request.
type NoAuth struct{}

// Authenticate accepts any token.
func (NoAuth) Authenticate(context.Context, string) (string, error) { return "anonymous", nil }

// TokenFile accepts the tokens listed in a file, one per line ('#' starts a comment). The file
// is re-read when it changes, so tokens can be rotated without a restart.
type TokenFile struct {
	Path string

	mu      sync.Mutex
	modTime time.Time
	tokens  []string
}

// Authenticate compares the token with every listed token in constant time.
func (f *TokenFile) Authenticate(_ context.Context, token string) (string, error) {
	tokens, err := f.load()
	if err != nil {
		return "", err
	}
	for i, t := range tokens {
		if subtle.ConstantTimeCompare([]byte(t), []byte(token)) == 1 {
			return fmt.Sprintf("token-file#%d", i+1), nil
		}
	}
	return "", fmt.Errorf("token not accepted")
}

func (f *TokenFile) load() ([]string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	st, err := os.Stat(f.Path)
	if err != nil {
		return nil, fmt.Errorf("reading the token file: %w", err)
	}
	if f.tokens != nil && st.ModTime().Equal(f.modTime) {
		return f.tokens, nil
	}
	file, err := os.Open(f.Path)
	if err != nil {
		return nil, fmt.Errorf("reading the token file: %w", err)
	}
	defer file.Close()
	tokens := []string{}
	sc := bufio.NewScanner(file)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		tokens = append(tokens, line)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("reading the token file: %w", err)
	}
	f.tokens, f.modTime = tokens, st.ModTime()
	return tokens, nil
}

// TokenReview checks tokens with the API server's TokenReview API and caches answers briefly.
type TokenReview struct {
	Client kubernetes.Interface
	// Audiences, when set, are required of the token.
	Audiences []string
	// CacheTTL keeps answers (default 1m for accepted tokens, 10s for rejected ones).
	CacheTTL time.Duration

	mu    sync.Mutex
	cache map[string]reviewResult
}

type reviewResult struct {
	user    string
	ok      bool
	expires time.Time
}

// NewTokenReview builds a TokenReview authenticator from a REST config.
func NewTokenReview(cfg *rest.Config) (*TokenReview, error) {
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, err
	}
	return &TokenReview{Client: cs}, nil
}

// Authenticate asks the API server about the token.
func (a *TokenReview) Authenticate(ctx context.Context, token string) (string, error) {
	now := time.Now()
	a.mu.Lock()
	if r, ok := a.cache[token]; ok && now.Before(r.expires) {
		a.mu.Unlock()
		if !r.ok {
			return "", fmt.Errorf("token not accepted")
		}
		return r.user, nil
	}
	a.mu.Unlock()
	review, err := a.Client.AuthenticationV1().TokenReviews().Create(ctx, &authnv1.TokenReview{
		Spec: authnv1.TokenReviewSpec{Token: token, Audiences: a.Audiences},
	}, metaCreate)
	if err != nil {
		return "", &UnavailableError{Err: fmt.Errorf("token review: %w", err)}
	}
	ttl := a.CacheTTL
	if ttl == 0 {
		ttl = time.Minute
	}
	res := reviewResult{ok: review.Status.Authenticated, user: review.Status.User.Username, expires: now.Add(ttl)}
	if !res.ok {
		res.expires = now.Add(10 * time.Second)
	}
	a.mu.Lock()
	if a.cache == nil || len(a.cache) > 10000 {
		a.cache = map[string]reviewResult{}
	}
	a.cache[token] = res
	a.mu.Unlock()
	if !res.ok {
		return "", fmt.Errorf("token not accepted: %s", review.Status.Error)
	}
	return res.user, nil
}

// UnavailableError means the authenticator could not decide (answered 503, not 401).
type UnavailableError struct{ Err error }

func (e *UnavailableError) Error() string { return e.Err.Error() }
func (e *UnavailableError) Unwrap() error { return e.Err }

type callerKey struct{}

// Caller returns the authenticated caller's name stored by RequireBearer.
func Caller(ctx context.Context) string {
	s, _ := ctx.Value(callerKey{}).(string)
	return s
}

// RequireBearer wraps h so that requests without an accepted bearer token get 401
// (or 503 with Retry-After when the authenticator is unavailable).
func RequireBearer(a Authenticator, h http.Handler) http.Handler {
	if _, ok := a.(NoAuth); ok {
		return h
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		auth := r.Header.Get("Authorization")
		token, found := strings.CutPrefix(auth, "Bearer ")
		if !found || strings.TrimSpace(token) == "" {
			w.Header().Set("WWW-Authenticate", `Bearer realm="kubernaut"`)
			WriteError(w, http.StatusUnauthorized, "missing bearer token (Authorization: Bearer <token>)")
			return
		}
		user, err := a.Authenticate(r.Context(), strings.TrimSpace(token))
		if err != nil {
			var unavailable *UnavailableError
			if asUnavailable(err, &unavailable) {
				w.Header().Set("Retry-After", "5")
				WriteError(w, http.StatusServiceUnavailable, "cannot verify the token now", unavailable.Error())
				return
			}
			w.Header().Set("WWW-Authenticate", `Bearer realm="kubernaut", error="invalid_token"`)
			WriteError(w, http.StatusUnauthorized, "bearer token not accepted")
			return
		}
		h.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), callerKey{}, user)))
	})
}
