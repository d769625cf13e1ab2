import type { StatusView, Tone } from '@/server/portal/views/status';

/** Tones meet WCAG AA (4.5:1) text contrast on their tinted backgrounds. */
export const TONE_CLASSES: Record<Tone, { badge: string; dot: string }> = {
  neutral: { badge: 'bg-slate-100 text-slate-700 ring-slate-200', dot: 'bg-slate-400' },
  info: { badge: 'bg-indigo-50 text-indigo-700 ring-indigo-200', dot: 'bg-indigo-500' },
  success: { badge: 'bg-emerald-50 text-emerald-800 ring-emerald-200', dot: 'bg-emerald-500' },
  warning: { badge: 'bg-amber-50 text-amber-800 ring-amber-200', dot: 'bg-amber-500' },
  danger: { badge: 'bg-rose-50 text-rose-700 ring-rose-200', dot: 'bg-rose-500' },
};

/** An invoice's, a subscription's or a payment's status: a word, never a colour alone. */
export function StatusBadge({ status, className = '' }: { status: Pick<StatusView, 'label' | 'tone'>; className?: string }) {
  const t = TONE_CLASSES[status.tone];
  return (
    <span className={`inline-flex items-center gap-1.5 whitespace-nowrap rounded-full px-2 py-0.5 text-xs font-medium ring-1 ring-inset ${t.badge} ${className}`}>
      <span className={`size-1.5 rounded-full ${t.dot}`} aria-hidden="true" />
      {status.label}
    </span>
  );
}
