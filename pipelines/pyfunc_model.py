"""MLflow pyfunc for NCE, logged from code (no pickle): input columns in, output columns out."""

import mlflow
from mlflow.pyfunc import PythonModel


class NCEPyfunc(PythonModel):
    """Wraps :class:`nce.models.nce_model.NCEModel` with the ``nce predict`` contract."""

    def load_context(self, context):
        from nce.pipelines.predict import load_model_folder

        self.model = load_model_folder(context.artifacts["nce_model"])

    def predict(self, context, model_input, params=None):
        from nce.pipelines.predict import predict_frame

        return predict_frame(self.model, model_input)


mlflow.models.set_model(NCEPyfunc())
