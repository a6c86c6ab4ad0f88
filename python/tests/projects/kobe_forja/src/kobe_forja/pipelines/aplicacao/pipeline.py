from kedro.pipeline import Pipeline, node

from .nodes import aplicar_modelo, relatorio


def create_pipeline(**kwargs) -> Pipeline:
    return Pipeline(
        [
            node(
                aplicar_modelo,
                ["arremessos_prod", "params:colunas", "params:tipo_arremesso", "params:nome_modelo_registrado", "nome_melhor_modelo"],
                "previsoes_producao",
                name="aplicar_modelo",
            ),
            node(relatorio, ["metricas_divisao", "metricas_modelos", "previsoes_producao"], "relatorio_treinamento", name="relatorio"),
        ]
    )
