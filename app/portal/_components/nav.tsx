'use client';

import Link from 'next/link';
import { usePathname } from 'next/navigation';

export interface NavItem {
  label: string;
  href: string;
  /** Not built yet: shown, not linked, with "soon". */
  soon?: boolean;
}

const isCurrent = (path: string, href: string) => (href === '/portal' ? path === '/portal' : path === href || path.startsWith(`${href}/`));

/** The portal's sections: the current one marked (aria-current), unbuilt ones visibly disabled. */
export function PortalNav({ items }: { items: NavItem[] }) {
  const path = usePathname();
  return (
    <nav aria-label="Billing portal" className="-mb-px overflow-x-auto">
      <ul className="flex min-w-max gap-1">
        {items.map((item) => {
          if (item.soon) {
            // Hidden on phones, where the bar would scroll: only what works is shown there.
            return (
              <li key={item.href} className="hidden sm:block">
                <span aria-disabled="true" className="flex cursor-not-allowed items-center gap-1.5 border-b-2 border-transparent px-3 py-3 text-sm font-medium text-slate-500">
                  {item.label}
                  <span className="rounded bg-slate-100 px-1.5 py-px text-[0.6875rem] font-medium uppercase tracking-wide text-slate-600">soon</span>
                </span>
              </li>
            );
          }
          const current = isCurrent(path, item.href);
          return (
            <li key={item.href}>
              <Link
                href={item.href}
                aria-current={current ? 'page' : undefined}
                className={`flex items-center border-b-2 px-3 py-3 text-sm font-medium transition-colors focus-visible:rounded-t focus-visible:outline-2 focus-visible:-outline-offset-2 focus-visible:outline-indigo-600 ${
                  current ? 'border-indigo-600 text-indigo-700' : 'border-transparent text-slate-600 hover:border-slate-300 hover:text-slate-900'
                }`}
              >
                {item.label}
              </Link>
            </li>
          );
        })}
      </ul>
    </nav>
  );
}
