from kedro.pipeline import Pipeline, node

from .nodes import preparar_dados, separar_treino_teste


def create_pipeline(**kwargs) -> Pipeline:
    return Pipeline(
        [
            node(preparar_dados, ["arremessos_dev", "params:colunas", "params:tipo_arremesso"], "dados_filtrados", name="preparar_dados"),
            node(
                separar_treino_teste,
                ["dados_filtrados", "params:proporção_teste", "params:semente"],
                ["base_treino", "base_teste", "metricas_divisao"],
                name="separar_treino_teste",
            ),
        ]
    )
