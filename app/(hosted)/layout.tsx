import type { Metadata } from 'next';
import type { ReactNode } from 'react';
import './hosted.css';

/**
 * The hosted pages (pay an invoice, the sandbox's add-a-card and 3-D Secure pages): pages
 * a paying customer opens from a link, with no account. The token in the URL is their
 * only authority; it must not leak to other sites (no referrer) nor be indexed.
 */
export const metadata: Metadata = {
  referrer: 'no-referrer',
  robots: { index: false, follow: false },
};

export default function HostedLayout({ children }: { children: ReactNode }) {
  return <div className="hosted">{children}</div>;
}
