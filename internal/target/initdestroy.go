package target

import (
	"context"
	"fmt"
	"io"
)

// InitOrDestroy is bridge init KIND (create) and bridge destroy KIND:
// it builds the target of that kind and creates or removes its
// account-level resources (Initializer), saying what it did on out. A
// target without such resources has nothing to do.
func InitOrDestroy(ctx context.Context, out io.Writer, deps Deps, kind string, create bool) error {
	t, err := New(ctx, kind, deps)
	if err != nil {
		return err
	}
	in, ok := t.(Initializer)
	if !ok {
		fmt.Fprintf(out, "%s: nothing to do\n", kind)
		return nil
	}
	if create {
		if err := in.Init(ctx); err != nil {
			return fmt.Errorf("init %s: %w", kind, err)
		}
		fmt.Fprintf(out, "%s: initialised\n", kind)
		return nil
	}
	if err := in.Destroy(ctx); err != nil {
		return fmt.Errorf("destroy %s: %w", kind, err)
	}
	fmt.Fprintf(out, "%s: destroyed\n", kind)
	return nil
}
