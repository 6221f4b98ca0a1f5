package schema

import (
	"encoding/json"
	"fmt"
)

// MarshalJSON flattens the metrics next to confusion_matrix and the curves,
// as SageMaker writes binary_classification_metrics.
func (b BinaryMetrics) MarshalJSON() ([]byte, error) {
	m := map[string]any{}
	for k, v := range b.Metrics {
		m[k] = v
	}
	m["confusion_matrix"] = b.ConfusionMatrix
	if b.ROC != nil {
		m["receiver_operating_characteristic_curve"] = b.ROC
	}
	if b.PR != nil {
		m["precision_recall_curve"] = b.PR
	}
	return json.Marshal(m)
}

// UnmarshalJSON reads the flattened form.
func (b *BinaryMetrics) UnmarshalJSON(data []byte) error {
	cm, metrics, rest, err := splitMetrics(data)
	if err != nil {
		return err
	}
	b.ConfusionMatrix, b.Metrics = cm, metrics
	if raw, ok := rest["receiver_operating_characteristic_curve"]; ok {
		b.ROC = &ROCCurve{}
		if err := json.Unmarshal(raw, b.ROC); err != nil {
			return fmt.Errorf("receiver_operating_characteristic_curve: %w", err)
		}
	}
	if raw, ok := rest["precision_recall_curve"]; ok {
		b.PR = &PRCurve{}
		if err := json.Unmarshal(raw, b.PR); err != nil {
			return fmt.Errorf("precision_recall_curve: %w", err)
		}
	}
	return nil
}

// MarshalJSON flattens the metrics next to confusion_matrix.
func (mc MulticlassMetrics) MarshalJSON() ([]byte, error) {
	m := map[string]any{}
	for k, v := range mc.Metrics {
		m[k] = v
	}
	m["confusion_matrix"] = mc.ConfusionMatrix
	return json.Marshal(m)
}

// UnmarshalJSON reads the flattened form.
func (mc *MulticlassMetrics) UnmarshalJSON(data []byte) error {
	cm, metrics, _, err := splitMetrics(data)
	if err != nil {
		return err
	}
	mc.ConfusionMatrix, mc.Metrics = cm, metrics
	return nil
}

func splitMetrics(data []byte) (ConfusionMatrix, map[string]Metric, map[string]json.RawMessage, error) {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(data, &raw); err != nil {
		return nil, nil, nil, err
	}
	var cm ConfusionMatrix
	metrics := map[string]Metric{}
	rest := map[string]json.RawMessage{}
	for k, v := range raw {
		switch k {
		case "confusion_matrix":
			if err := json.Unmarshal(v, &cm); err != nil {
				return nil, nil, nil, fmt.Errorf("confusion_matrix: %w", err)
			}
		default:
			var m Metric
			var probe map[string]json.RawMessage
			if json.Unmarshal(v, &probe) == nil {
				if _, ok := probe["value"]; ok {
					if err := json.Unmarshal(v, &m); err != nil {
						return nil, nil, nil, fmt.Errorf("%s: %w", k, err)
					}
					metrics[k] = m
					continue
				}
			}
			rest[k] = v
		}
	}
	return cm, metrics, rest, nil
}
