import { Route, Routes } from 'react-router';
import { TrainingPage } from './Training';
import { TrainingRunPage } from './TrainingRun';

/** /training and /training/:id, loaded together on first use. */
export default function TrainingRoutes() {
  return (
    <Routes>
      <Route index element={<TrainingPage />} />
      <Route path=":id" element={<TrainingRunPage />} />
    </Routes>
  );
}
