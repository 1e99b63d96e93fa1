from django.urls import path

from web import views

urlpatterns = [
    path("f/<int:funding_id>/", views.funding_page, name="web-funding"),
    path("f/<int:funding_id>/card.png", views.funding_card, name="web-funding-card"),
    path("web/card.png", views.neutral_card, name="web-card"),
]
