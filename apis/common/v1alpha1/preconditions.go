package v1alpha1

// Preconditions pin the state of an operation's target that was validated and approved, so that
// a change made to the target in between (a person's roll-forward, a scale, an edit) is never
// silently overwritten: the executor compares them with the live object before every change and
// makes its write conditional on them.
type Preconditions struct {
	// generation of the target when it was validated (metadata.generation); a spec change since
	// increases it.
	// +optional
	// +kubebuilder:validation:Minimum=0
	Generation int64 `json:"generation,omitempty"`
	// resourceVersion of the target when it was validated.
	// +optional
	// +kubebuilder:validation:MaxLength=64
	ResourceVersion string `json:"resourceVersion,omitempty"`
	// revision is a Deployment's "deployment.kubernetes.io/revision" annotation when it was validated.
	// +optional
	// +kubebuilder:validation:MaxLength=32
	Revision string `json:"revision,omitempty"`
	// podTemplateHash is the pod-template-hash of the Deployment's current ReplicaSet when it was validated.
	// +optional
	// +kubebuilder:validation:MaxLength=63
	PodTemplateHash string `json:"podTemplateHash,omitempty"`
}
