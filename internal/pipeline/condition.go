package pipeline

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
)

// Condition operators, as the SageMaker Python SDK writes them.
var comparisons = map[string]bool{
	"Equals": true, "GreaterThan": true, "GreaterThanOrEqualTo": true,
	"LessThan": true, "LessThanOrEqualTo": true,
}

func checkCondition(c any) error {
	m, ok := c.(map[string]any)
	if !ok {
		return errors.New("want a condition object with Type")
	}
	t, _ := m["Type"].(string)
	switch {
	case comparisons[t]:
		if _, ok := m["LeftValue"]; !ok {
			return fmt.Errorf("%s: LeftValue missing", t)
		}
		if _, ok := m["RightValue"]; !ok {
			return fmt.Errorf("%s: RightValue missing", t)
		}
	case t == "In":
		if _, ok := m["QueryValue"]; !ok {
			return errors.New("In: QueryValue missing")
		}
		if _, ok := m["Values"].([]any); !ok {
			return errors.New("In: Values: want a list")
		}
	case t == "Not":
		inner, ok := m["Condition"]
		if !ok {
			inner, ok = m["Expression"]
		}
		if !ok {
			return errors.New("Not: Condition missing")
		}
		return checkCondition(inner)
	case t == "Or", t == "And":
		list, ok := m["Conditions"].([]any)
		if !ok {
			return fmt.Errorf("%s: Conditions: want a list", t)
		}
		for i, x := range list {
			if err := checkCondition(x); err != nil {
				return fmt.Errorf("%s.Conditions[%d]: %w", t, i, err)
			}
		}
	default:
		return fmt.Errorf("condition type %q is not supported (want Equals, GreaterThan, GreaterThanOrEqualTo, LessThan, LessThanOrEqualTo, In, Not, Or, And)", t)
	}
	return nil
}

// Evaluate evaluates a Condition step's resolved conditions (all must hold).
func Evaluate(conds []any) (bool, error) {
	for i, c := range conds {
		ok, err := evalCondition(c)
		if err != nil {
			return false, fmt.Errorf("Conditions[%d]: %w", i, err)
		}
		if !ok {
			return false, nil
		}
	}
	return true, nil
}

func evalCondition(c any) (bool, error) {
	m, _ := c.(map[string]any)
	t, _ := m["Type"].(string)
	switch {
	case comparisons[t]:
		cmp, err := compare(m["LeftValue"], m["RightValue"], t != "Equals")
		if err != nil {
			return false, fmt.Errorf("%s: %w", t, err)
		}
		switch t {
		case "Equals":
			return cmp == 0, nil
		case "GreaterThan":
			return cmp > 0, nil
		case "GreaterThanOrEqualTo":
			return cmp >= 0, nil
		case "LessThan":
			return cmp < 0, nil
		default:
			return cmp <= 0, nil
		}
	case t == "In":
		for _, v := range m["Values"].([]any) {
			if cmp, err := compare(m["QueryValue"], v, false); err == nil && cmp == 0 {
				return true, nil
			}
		}
		return false, nil
	case t == "Not":
		inner, ok := m["Condition"]
		if !ok {
			inner = m["Expression"]
		}
		v, err := evalCondition(inner)
		return !v, err
	case t == "Or", t == "And":
		for _, x := range m["Conditions"].([]any) {
			v, err := evalCondition(x)
			if err != nil {
				return false, err
			}
			if v == (t == "Or") {
				return v, nil
			}
		}
		return t == "And", nil
	}
	return false, fmt.Errorf("condition type %q is not supported", t)
}

func number(v any) (float64, bool) {
	switch x := v.(type) {
	case float64:
		return x, true
	case int64:
		return float64(x), true
	case int:
		return float64(x), true
	case json.Number:
		f, err := x.Float64()
		return f, err == nil
	case string:
		f, err := strconv.ParseFloat(x, 64)
		return f, err == nil
	}
	return 0, false
}

// compare orders two values: numerically when both are numbers (or numeric
// strings), else as strings for equality. ordered requires numbers or two
// strings.
func compare(a, b any, ordered bool) (int, error) {
	if x, ok := number(a); ok {
		if y, ok := number(b); ok {
			switch {
			case x < y:
				return -1, nil
			case x > y:
				return 1, nil
			}
			return 0, nil
		}
	}
	if ba, ok := a.(bool); ok {
		if bb, ok := b.(bool); ok && !ordered {
			if ba == bb {
				return 0, nil
			}
			return 1, nil
		}
	}
	sa, aStr := a.(string)
	sb, bStr := b.(string)
	if ordered && !(aStr && bStr) {
		return 0, fmt.Errorf("cannot order %s and %s", Stringify(a), Stringify(b))
	}
	if !aStr {
		sa = Stringify(a)
	}
	if !bStr {
		sb = Stringify(b)
	}
	switch {
	case sa < sb:
		return -1, nil
	case sa > sb:
		return 1, nil
	}
	return 0, nil
}
