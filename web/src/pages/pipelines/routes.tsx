import { Route, Routes } from 'react-router';
import { PipelinesPage } from './Pipelines';
import { PipelinePage } from './Pipeline';
import { PipelineRunPage } from './PipelineRun';

/** /pipelines, /pipelines/:name and /pipelines/:name/runs/:runId, loaded together on first use. */
export default function PipelineRoutes() {
  return (
    <Routes>
      <Route index element={<PipelinesPage />} />
      <Route path=":name" element={<PipelinePage />} />
      <Route path=":name/runs/:runId" element={<PipelineRunPage />} />
    </Routes>
  );
}
