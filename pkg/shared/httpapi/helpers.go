package httpapi

import (
	"errors"
	"fmt"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"

	"github.com/kubernaut/kubernaut/pkg/shared/app"
)

var metaCreate = metav1.CreateOptions{}

func asUnavailable(err error, target **UnavailableError) bool { return errors.As(err, target) }

// NewAuthenticator builds the authenticator the HTTP flags select; cfg is needed for tokenreview.
func NewAuthenticator(o app.HTTPOptions, cfg *rest.Config) (Authenticator, error) {
	switch o.AuthMode {
	case app.AuthModeNone:
		return NoAuth{}, nil
	case app.AuthModeTokenFile:
		tf := &TokenFile{Path: o.AuthTokenFile}
		if _, err := tf.load(); err != nil {
			return nil, err
		}
		return tf, nil
	case app.AuthModeTokenReview:
		if cfg == nil {
			return nil, errors.New("--auth-mode=tokenreview needs a cluster connection")
		}
		return NewTokenReview(cfg)
	}
	return nil, fmt.Errorf("unknown --auth-mode %q", o.AuthMode)
}
