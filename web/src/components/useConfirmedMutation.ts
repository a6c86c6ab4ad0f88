import { useState } from 'react';
import { useMutation } from '@tanstack/react-query';

/**
 * A change that asks first. `ask(target)` opens the ConfirmDialog that `dialog` is spread on;
 * confirming runs `run` on that target. The dialog stays open, pending, until `done` has finished,
 * so what `done` refreshes is current when it closes; closing it drops a failed attempt's error.
 */
export function useConfirmedMutation<T, R>(run: (target: T) => Promise<R>, done?: (result: R, target: T) => unknown) {
  const [target, setTarget] = useState<T | null>(null);
  const mutation = useMutation({
    mutationFn: run,
    onSuccess: async (result, confirmed) => {
      await done?.(result, confirmed);
      setTarget(null);
    },
  });
  return {
    target,
    ask: (t: T) => setTarget(() => t),
    dialog: {
      open: target !== null,
      pending: mutation.isPending,
      error: mutation.error,
      onConfirm: () => {
        if (target !== null) mutation.mutate(target);
      },
      onClose: () => {
        mutation.reset();
        setTarget(null);
      },
    },
  };
}
