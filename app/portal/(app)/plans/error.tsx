'use client';

import { PageError } from '../../_components/page-error';

export default function PlansError(props: { error: Error & { digest?: string }; reset: () => void }) {
  return <PageError {...props} what="the plans" />;
}
