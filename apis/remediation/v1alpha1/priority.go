package v1alpha1

// DefaultPriorityTable returns the contract's default business priority for each severity ×
// environment (the test environment counts as development). The gateway and the processing
// service both start from it; operators change it with their own flags and policies.
func DefaultPriorityTable() map[Severity]map[Environment]Priority {
	const (
		prod, stg, dev, unk = EnvironmentProduction, EnvironmentStaging, EnvironmentDevelopment, EnvironmentUnknown
		p0, p1, p2, p3      = PriorityP0, PriorityP1, PriorityP2, PriorityP3
	)
	return map[Severity]map[Environment]Priority{
		SeverityCritical: {prod: p0, stg: p1, dev: p2, unk: p1},
		SeverityWarning:  {prod: p1, stg: p2, dev: p2, unk: p2},
		SeverityInfo:     {prod: p2, stg: p2, dev: p2, unk: p3},
	}
}
