/** Link and button looks, shared so every action reads the same. Focus rings are always visible. */
const base =
  'inline-flex items-center justify-center gap-1.5 rounded-lg px-3.5 py-2 text-sm font-medium transition-colors focus-visible:outline-2 focus-visible:outline-offset-2 focus-visible:outline-indigo-600 disabled:cursor-not-allowed disabled:opacity-60';

export const buttonPrimary = `${base} bg-indigo-600 text-white shadow-sm hover:bg-indigo-700`;
export const buttonSecondary = `${base} bg-white text-slate-800 ring-1 ring-inset ring-slate-300 hover:bg-slate-50`;
export const buttonDanger = `${base} bg-rose-600 text-white shadow-sm hover:bg-rose-700`;
export const textLink = 'font-medium text-indigo-700 underline-offset-2 hover:underline focus-visible:rounded focus-visible:outline-2 focus-visible:outline-offset-2 focus-visible:outline-indigo-600';
