'use client';

import { PageError } from '../../../_components/page-error';

export default function InvoiceError(props: { error: Error & { digest?: string }; reset: () => void }) {
  return <PageError {...props} what="this invoice" />;
}
